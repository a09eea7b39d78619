"""Install, tokens and sign-in against a stand-in Shopify on a real local port.

Every token Slipstream holds comes from the fake's /admin/oauth/access_token, which checks each
field as Shopify does (tests/fakeshopify.py).
"""

from __future__ import annotations

import hashlib
import hmac
import time
import uuid
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlencode, urlparse

import pytest
from django.conf import settings
from django.test import Client

from shopapp.shops.crypto import token_decrypt
from shopapp.shops.models import Shop, ShopCredential
from shopapp.shops.services import tokens_refresh
from tests.fakeshopify import FakeShopify, session_token

pytestmark = pytest.mark.django_db(transaction=True)

KEY = settings.SHOPIFY_API_KEY
SECRET = settings.SHOPIFY_API_SECRET


@pytest.fixture(autouse=True)
def setups(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The post-install setup each install queues (web pixel, catalogue): recorded, not run."""
    from workers.tasks import shop_setup

    queued: list[str] = []
    monkeypatch.setattr(shop_setup, "delay", lambda *, shop: queued.append(shop))
    return queued


@pytest.fixture
def new_shop() -> str:
    return f"shop-{uuid.uuid4().hex[:10]}.myshopify.com"


def _open_app(client: Client, shop: str, token: str | None = None):
    token = token or session_token(shop, secret=SECRET, aud=KEY)
    query = urlencode({"embedded": "1", "shop": shop, "host": "aG9zdA", "id_token": token})
    return client.get(f"/app?{query}")


def _credential(shop: str) -> ShopCredential:
    return ShopCredential.objects.select_related("shop").get(shop__domain=shop)


# Shopify-managed install: token exchange.


def test_first_visit_installs_with_an_expiring_offline_token(
    fake: FakeShopify, new_shop: str, setups: list[str]
):
    response = _open_app(Client(), new_shop)
    _open_app(Client(), new_shop)
    assert setups == [new_shop]  # set up once, on the install

    assert response.status_code == 200
    assert response["Content-Security-Policy"] == (
        f"frame-ancestors https://{new_shop} https://admin.shopify.com;"
    )
    assert b"app-bridge.js" in response.content
    [exchange] = fake.grants("urn:ietf:params:oauth:grant-type:token-exchange")
    assert exchange["expiring"] == 1
    assert exchange["requested_token_type"] == (
        "urn:shopify:params:oauth:token-type:offline-access-token"
    )
    credential = _credential(new_shop)
    plain = token_decrypt(credential.access_token)
    assert plain in fake.access_tokens
    assert plain not in credential.access_token  # stored encrypted, not as the token itself
    assert token_decrypt(credential.refresh_token) in fake.refresh_tokens
    expected_expiry = datetime.now(UTC) + timedelta(hours=1)
    assert credential.expires_at is not None
    assert abs((credential.expires_at - expected_expiry).total_seconds()) < 60
    assert Shop.objects.get(domain=new_shop).is_active


def test_a_second_visit_does_not_exchange_again(fake: FakeShopify, new_shop: str):
    _open_app(Client(), new_shop)
    _open_app(Client(), new_shop)
    assert len(fake.grants("urn:ietf:params:oauth:grant-type:token-exchange")) == 1


def test_refresh_rotates_the_refresh_token(fake: FakeShopify, new_shop: str):
    _open_app(Client(), new_shop)
    first = _credential(new_shop)
    old_access, old_refresh = token_decrypt(first.access_token), token_decrypt(first.refresh_token)
    ShopCredential.objects.filter(pk=first.pk).update(
        expires_at=datetime.now(UTC) + timedelta(minutes=5)
    )

    assert tokens_refresh() == {"refreshed": 1, "failed": 0}

    [refresh] = fake.grants("refresh_token")
    assert refresh["refresh_token"] == old_refresh
    second = _credential(new_shop)
    new_access, new_refresh = (
        token_decrypt(second.access_token),
        token_decrypt(second.refresh_token),
    )
    assert new_access != old_access
    assert new_access in fake.access_tokens
    assert new_refresh != old_refresh
    assert new_refresh in fake.refresh_tokens
    assert old_refresh not in fake.refresh_tokens  # spent: Shopify would refuse it now
    assert second.expires_at is not None
    assert second.expires_at > datetime.now(UTC) + timedelta(minutes=50)
    # Not due any more: a second run leaves it alone.
    assert tokens_refresh() == {"refreshed": 0, "failed": 0}


def test_a_refused_refresh_is_recovered_by_the_next_admin_visit(fake: FakeShopify, new_shop: str):
    _open_app(Client(), new_shop)
    ShopCredential.objects.filter(shop__domain=new_shop).update(
        expires_at=datetime.now(UTC) + timedelta(minutes=1)
    )
    fake.refresh_tokens_revoke()

    assert tokens_refresh() == {"refreshed": 0, "failed": 1}
    assert _credential(new_shop).refresh_failed

    assert _open_app(Client(), new_shop).status_code == 200
    assert len(fake.grants("urn:ietf:params:oauth:grant-type:token-exchange")) == 2
    credential = _credential(new_shop)
    assert credential.refresh_failed == ""
    assert token_decrypt(credential.refresh_token) in fake.refresh_tokens


def test_tokens_rekey_moves_tokens_to_the_newest_key(fake: FakeShopify, new_shop: str, settings):
    from cryptography.fernet import Fernet

    from shopapp.shops.services import tokens_rekey

    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.SHOPIFY_TOKEN_KEYS = [old]
    _open_app(Client(), new_shop)
    plain = token_decrypt(_credential(new_shop).access_token)

    settings.SHOPIFY_TOKEN_KEYS = [new, old]
    assert tokens_rekey() >= 1
    settings.SHOPIFY_TOKEN_KEYS = [new]
    assert token_decrypt(_credential(new_shop).access_token) == plain


# Session tokens: the embedded UI's fetches.


def _fetch(token: str):
    return Client().get("/app/api/session", HTTP_AUTHORIZATION=f"Bearer {token}")


def test_a_valid_session_token_names_the_shop(fake: FakeShopify, new_shop: str):
    response = _fetch(session_token(new_shop, secret=SECRET, aud=KEY))
    assert response.status_code == 200
    assert response.json() == {"shop": new_shop, "user": "42"}


def test_a_token_within_the_leeway_is_accepted(fake: FakeShopify, new_shop: str):
    response = _fetch(session_token(new_shop, secret=SECRET, aud=KEY, expires_in=-5))
    assert response.status_code == 200


@pytest.mark.parametrize(
    "case",
    [
        "forged",
        "another_apps_secret",
        "expired",
        "not_yet_valid",
        "wrong_audience",
        "alg_none",
        "iss_other_shop",
        "dest_not_a_shop",
        "garbage",
    ],
)
def test_a_bad_session_token_is_401_with_the_retry_header(fake: FakeShopify, new_shop: str, case):
    tokens = {
        "forged": lambda: session_token(
            new_shop, secret="not-the-secret-but-just-as-long-as-one", aud=KEY
        ),
        "another_apps_secret": lambda: session_token(
            new_shop, secret="other-app-secret-of-a-good-length-too", aud="other-app-client-id"
        ),
        "expired": lambda: session_token(new_shop, secret=SECRET, aud=KEY, expires_in=-30),
        "not_yet_valid": lambda: session_token(
            new_shop, secret=SECRET, aud=KEY, not_before_in=60, expires_in=120
        ),
        "wrong_audience": lambda: session_token(new_shop, secret=SECRET, aud="other-app"),
        "alg_none": lambda: session_token(new_shop, secret=SECRET, aud=KEY, alg="none"),
        "iss_other_shop": lambda: session_token(
            new_shop, secret=SECRET, aud=KEY, iss_shop="other-shop.myshopify.com"
        ),
        "dest_not_a_shop": lambda: session_token("evil.com", secret=SECRET, aud=KEY),
        "garbage": lambda: "not.a.jwt",
    }
    response = _fetch(tokens[case]())
    assert response.status_code == 401
    assert response["X-Shopify-Retry-Invalid-Session-Request"] == "1"
    assert not fake.requests  # nothing was exchanged on a bad token
    assert not Shop.objects.filter(domain=new_shop).exists()


def test_a_fetch_without_a_token_is_401_with_the_retry_header(fake: FakeShopify):
    response = Client().get("/app/api/session")
    assert response.status_code == 401
    assert response["X-Shopify-Retry-Invalid-Session-Request"] == "1"


def test_a_document_load_without_id_token_bounces_to_the_patch_page(new_shop: str):
    response = Client().get(f"/app?embedded=1&shop={new_shop}&host=aG9zdA")
    assert response.status_code == 302
    location = urlparse(response["Location"])
    assert location.path == "/auth/patch-id-token"
    query = parse_qs(location.query)
    assert query["shop"] == [new_shop]
    assert query["shopify-reload"][0].startswith("/app?")

    page = Client().get(response["Location"])
    assert page.status_code == 200
    assert f'data-api-key="{KEY}"'.encode() in page.content
    assert f"frame-ancestors https://{new_shop}" in page["Content-Security-Policy"]


def test_a_document_load_with_a_stale_id_token_bounces_too(new_shop: str):
    stale = session_token(new_shop, secret=SECRET, aud=KEY, expires_in=-60)
    response = _open_app(Client(), new_shop, token=stale)
    assert response.status_code == 302
    assert response["Location"].startswith("http://testserver/auth/patch-id-token?")


@pytest.mark.parametrize(
    "shop",
    [
        "evil.com",
        "x.myshopify.com.evil.com",
        "shop.myshopify.com\r\nSet-Cookie: a=b",
        "",
    ],
)
def test_the_patch_page_refuses_a_hostile_shop(shop: str):
    response = Client().get(
        "/auth/patch-id-token?" + urlencode({"shop": shop, "shopify-reload": "/app"})
    )
    assert response.status_code == 400


# The legacy authorization-code grant.

HOSTILE_SHOPS = [
    "evil.com",
    "x.myshopify.com.evil.com",
    "shop.myshopify.com.",
    "sh\u043ep.myshopify.com",  # a Cyrillic o
    "\u212aelvin.myshopify.com",  # the Kelvin sign lower-cases to "k"
    "",
    "shop.myshopify.com/admin",
    "shop.myshopify.com:443",
    "https://shop.myshopify.com",
    "shop.myshopify.com\n",
    "-shop.myshopify.com",
]


def _signed(params: dict[str, str], *, secret: str = SECRET, at: float | None = None) -> str:
    query = {**params, "timestamp": str(int(at if at is not None else time.time()))}
    message = urlencode(sorted(query.items()))
    query["hmac"] = hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()
    return urlencode(query)


def _install(client: Client, shop: str) -> str:
    response = client.get("/auth/install?" + _signed({"shop": shop, "host": "aG9zdA=="}))
    assert response.status_code == 302, response.content
    location = urlparse(response["Location"])
    assert location.netloc == shop
    assert location.path == "/admin/oauth/authorize"
    query = parse_qs(location.query)
    assert query["client_id"] == [KEY]
    assert query["scope"] == [
        "read_products,read_orders,write_app_proxy,write_pixels,read_customer_events,write_customers"
    ]
    assert query["redirect_uri"] == [f"{settings.SHOPIFY_APP_URL}/auth/callback"]
    return query["state"][0]


def test_the_code_grant_installs_with_an_expiring_token(
    fake: FakeShopify, new_shop: str, setups: list[str]
):
    browser = Client()
    state = _install(browser, new_shop)
    code = fake.code_issue(new_shop)

    response = browser.get(
        "/auth/callback?" + _signed({"shop": new_shop, "code": code, "state": state})
    )

    assert response.status_code == 302
    assert response["Location"] == f"https://{new_shop}/admin/apps/{KEY}"
    assert setups == [new_shop]
    [grant] = [r for r in fake.requests if "code" in r]
    assert grant["expiring"] == 1
    credential = _credential(new_shop)
    assert token_decrypt(credential.access_token) in fake.access_tokens
    assert credential.expires_at is not None
    assert credential.refresh_token


def test_a_replayed_state_is_refused(fake: FakeShopify, new_shop: str):
    browser = Client()
    state = _install(browser, new_shop)
    first = browser.get(
        "/auth/callback?"
        + _signed({"shop": new_shop, "code": fake.code_issue(new_shop), "state": state})
    )
    assert first.status_code == 302
    browser.cookies["slipstream_oauth_state"] = state  # the attacker kept the cookie too
    replay = browser.get(
        "/auth/callback?"
        + _signed({"shop": new_shop, "code": fake.code_issue(new_shop), "state": state})
    )
    assert replay.status_code == 403


def test_a_state_from_another_browser_is_refused(fake: FakeShopify, new_shop: str):
    state = _install(Client(), new_shop)
    response = Client().get(
        "/auth/callback?"
        + _signed({"shop": new_shop, "code": fake.code_issue(new_shop), "state": state})
    )
    assert response.status_code == 403
    assert not ShopCredential.objects.filter(shop__domain=new_shop).exists()


def test_a_state_issued_for_another_shop_is_refused(fake: FakeShopify, new_shop: str):
    browser = Client()
    state = _install(browser, "other-shop.myshopify.com")
    response = browser.get(
        "/auth/callback?"
        + _signed({"shop": new_shop, "code": fake.code_issue(new_shop), "state": state})
    )
    assert response.status_code == 403


@pytest.mark.parametrize("path", ["/auth/install", "/auth/callback"])
def test_a_bad_or_stale_oauth_signature_is_401(path: str, new_shop: str):
    forged = _signed({"shop": new_shop, "code": "c", "state": "s"}, secret="not-the-secret")
    stale = _signed({"shop": new_shop, "code": "c", "state": "s"}, at=time.time() - 600)
    tampered = _signed({"shop": new_shop, "code": "c", "state": "s"}).replace("code=c", "code=d")
    for query in (forged, stale, tampered):
        assert Client().get(f"{path}?{query}").status_code == 401


@pytest.mark.parametrize("shop", HOSTILE_SHOPS)
def test_a_hostile_shop_domain_is_400(shop: str):
    response = Client().get("/auth/install?" + _signed({"shop": shop}))
    assert response.status_code == 400
    response = Client().get("/auth/callback?" + _signed({"shop": shop, "code": "c", "state": "s"}))
    assert response.status_code == 400


def test_reinstall_after_uninstall_exchanges_a_new_token(
    fake: FakeShopify, new_shop: str, monkeypatch: pytest.MonkeyPatch
):
    import json

    from shopapp.shopify.signatures import webhook_sign
    from workers import webhooks as webhook_tasks

    monkeypatch.setattr(webhook_tasks.webhook_process, "delay", webhook_tasks.webhook_process.run)
    _open_app(Client(), new_shop)
    first_token = token_decrypt(_credential(new_shop).access_token)

    body = json.dumps({"id": 1, "myshopify_domain": new_shop}).encode()
    uninstall = Client().post(
        "/webhooks",
        data=body,
        content_type="application/json",
        HTTP_X_SHOPIFY_HMAC_SHA256=webhook_sign(body=body, secret=SECRET),
        HTTP_X_SHOPIFY_TOPIC="app/uninstalled",
        HTTP_X_SHOPIFY_SHOP_DOMAIN=new_shop,
        HTTP_X_SHOPIFY_EVENT_ID=str(uuid.uuid4()),
    )
    assert uninstall.status_code == 200
    assert not ShopCredential.objects.filter(shop__domain=new_shop).exists()
    assert not Shop.objects.get(domain=new_shop).is_active

    assert _open_app(Client(), new_shop).status_code == 200  # the merchant installs again
    assert len(fake.grants("urn:ietf:params:oauth:grant-type:token-exchange")) == 2
    assert Shop.objects.get(domain=new_shop).is_active
    second_token = token_decrypt(_credential(new_shop).access_token)
    assert second_token != first_token
    assert second_token in fake.access_tokens
