"""The demo's stand-in admin (shopapp/demo/admin.py) and its catalogue images: not routed unless
the demo is installed (SLIPSTREAM_DEMO), off unless `manage.py demo` turns the demo on; then
session tokens the real dashboard accepts, signed with the demo's own secret only, and the app's
pages frameable by the stand-in."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import jwt
import pytest
from django.test import Client

from shopapp.demo.middleware import demo_policy
from shopapp.demo.proxy import DEMO_SHOP
from shopapp.demo.seed import DEMO_ACCESS_TOKEN, demo_seed, demo_shop_install
from shopapp.demo.tokens import DemoOff, demo_session_token
from shopapp.recs.models import Product
from shopapp.recs.services import products_upsert
from shopapp.shopify.auth import Denied, Session, session_verify
from shopapp.shops.models import Shop
from shopapp.shops.selectors import shop_needs_token
from shopapp.shops.services import credential_token
from tests.fakeshopify import session_token

DEMO_SECRET = "d" * 64
SHOPIFY_CSP = f"frame-ancestors https://{DEMO_SHOP} https://admin.shopify.com;"


@pytest.fixture
def demo_on(demo_app: None, settings: Any) -> None:
    """As in the demo's processes: the demo installed and on, its own secret the app's."""
    settings.DEMO_APP_PROXY, settings.DEMO_APP_PROXY_SECRET = True, DEMO_SECRET
    settings.SHOPIFY_API_SECRET = DEMO_SECRET


def _app_url(path: str, token: str) -> str:
    query = {"embedded": "1", "shop": DEMO_SHOP, "host": "aG9zdA", "id_token": token}
    return f"{path}?{urlencode(query)}"


@pytest.mark.parametrize("installed", [False, True], ids=["without-the-demo", "demo-without-proxy"])
@pytest.mark.parametrize(
    "path", ["/demo/admin/", "/demo/admin/settings", "/demo/admin/token", "/demo/images/1.svg"]
)
def test_the_stand_in_admin_and_the_images_are_off_by_default(
    request: pytest.FixtureRequest, path: str, installed: bool
) -> None:
    if installed:
        request.getfixturevalue("demo_app")
    assert Client().get(path).status_code == 404


def test_no_token_is_minted_while_the_demo_is_off_or_has_no_secret(
    demo_app: None, settings: Any
) -> None:
    with pytest.raises(DemoOff):
        demo_session_token(shop=DEMO_SHOP)
    settings.DEMO_APP_PROXY, settings.DEMO_APP_PROXY_SECRET = True, ""
    with pytest.raises(DemoOff):
        demo_session_token(shop=DEMO_SHOP)
    assert Client().get("/demo/admin/token").status_code == 404


def test_a_minted_token_carries_shopifys_claims_and_signs_in(demo_on: None, settings: Any) -> None:
    response = Client().get("/demo/admin/token")
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    token = response.json()["token"]
    claims = jwt.decode(token, DEMO_SECRET, algorithms=["HS256"], audience=settings.SHOPIFY_API_KEY)
    assert set(claims) == {"iss", "dest", "aud", "sub", "exp", "nbf", "iat", "jti", "sid"}
    assert (claims["iss"], claims["dest"], claims["sub"]) == (
        f"https://{DEMO_SHOP}/admin",
        f"https://{DEMO_SHOP}",
        "1",
    )
    assert claims["exp"] - claims["iat"] == 60
    assert claims["nbf"] == claims["iat"]
    session = session_verify(
        url="https://app.example/app/api/session", headers={"Authorization": f"Bearer {token}"}
    )
    assert isinstance(session, Session)
    assert (session.shop, session.user_id) == (DEMO_SHOP, "1")


def test_a_demo_token_signs_nothing_in_where_the_published_secret_is_the_apps(
    demo_on: None, settings: Any
) -> None:
    token = demo_session_token(shop=DEMO_SHOP)
    settings.SHOPIFY_API_SECRET = "slipstream-dev-client-secret-not-for-production"
    denied = session_verify(
        url="https://app.example/app/api/session", headers={"Authorization": f"Bearer {token}"}
    )
    assert isinstance(denied, Denied)
    assert denied.status == 401


@pytest.mark.django_db
def test_the_demo_shop_opens_the_dashboard_without_a_token_exchange(demo_on: None) -> None:
    demo_shop_install(shop=DEMO_SHOP)
    assert not shop_needs_token(domain=DEMO_SHOP)
    credential = credential_token(Shop.objects.get(domain=DEMO_SHOP).credential)
    assert (credential.access_token, credential.expires_at) == (DEMO_ACCESS_TOKEN, None)
    # No Shopify to exchange with here: a 200 means none was attempted.
    response = Client().get(_app_url("/app/settings", demo_session_token(shop=DEMO_SHOP)))
    assert response.status_code == 200
    # The stand-in may frame it; Shopify's CDN scripts (App Bridge has no admin here) may not run.
    assert response["Content-Security-Policy"] == (
        f"frame-ancestors https://{DEMO_SHOP} https://admin.shopify.com 'self'; "
        "script-src 'self' 'unsafe-inline';"
    )
    assert "cdn.shopify.com" not in response.get("Link", "")
    assert b"slipstream-demo:id-token-request" in response.content  # the token hook


@pytest.mark.django_db
@pytest.mark.parametrize("installed", [False, True], ids=["without-the-demo", "demo-without-proxy"])
def test_off_the_demo_the_apps_pages_keep_shopifys_policy_and_no_hook(
    request: pytest.FixtureRequest, settings: Any, installed: bool
) -> None:
    if installed:
        request.getfixturevalue("demo_app")
    demo_shop_install(shop=DEMO_SHOP)
    token = session_token(
        DEMO_SHOP, secret=settings.SHOPIFY_API_SECRET, aud=settings.SHOPIFY_API_KEY
    )
    response = Client().get(_app_url("/app/settings", token))
    assert response.status_code == 200
    assert response["Content-Security-Policy"] == SHOPIFY_CSP
    assert b"slipstream-demo:id-token" not in response.content


def test_the_demo_policy_adds_the_stand_in_and_keeps_the_cdn_out() -> None:
    assert demo_policy(SHOPIFY_CSP) == (
        f"frame-ancestors https://{DEMO_SHOP} https://admin.shopify.com 'self'; "
        "script-src 'self' 'unsafe-inline';"
    )
    assert demo_policy("frame-ancestors x; script-src *") == (
        "frame-ancestors x 'self'; script-src 'self' 'unsafe-inline';"
    )


@pytest.mark.django_db
def test_each_product_has_its_drawn_image(demo_on: None, settings: Any, tmp_path: Any) -> None:
    settings.MLFLOW_TRACKING_URI = f"sqlite:///{tmp_path / 'mlflow.db'}"
    products = demo_seed(shop=DEMO_SHOP, say=lambda _: None)
    assert len(products) == 48
    urls = dict(
        Product.objects.filter(shop__domain=DEMO_SHOP).values_list("product_id", "image_url")
    )
    assert urls == {p.item_id: f"/demo/images/{p.item_id}.svg" for p in products}
    first = products[0]
    response = Client().get(urls[first.item_id])
    assert response.status_code == 200
    assert response["Content-Type"] == "image/svg+xml"
    assert response["Content-Security-Policy"] == "default-src 'none'; style-src 'unsafe-inline'"
    svg = response.content.decode()
    assert svg.startswith('<svg xmlns="http://www.w3.org/2000/svg"')
    assert first.title in svg
    assert Client().get("/demo/images/999999.svg").status_code == 404


@pytest.mark.django_db
def test_a_catalogue_made_before_the_images_gets_them(demo_on: None) -> None:
    demo_shop_install(shop=DEMO_SHOP)
    products_upsert(
        shop=DEMO_SHOP, products=[{"product_id": "7", "handle": "p7", "title": "P7", "price": "1"}]
    )
    demo_seed(shop=DEMO_SHOP, say=lambda _: None)
    assert Product.objects.get(shop__domain=DEMO_SHOP, product_id="7").image_url == (
        "/demo/images/7.svg"
    )


def test_the_old_dashboard_address_leads_to_the_admin(demo_on: None) -> None:
    response = Client().get("/demo/dashboard/")
    assert (response.status_code, response["Location"]) == (302, "/demo/admin/")
