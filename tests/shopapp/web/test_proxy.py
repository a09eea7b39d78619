from __future__ import annotations

import time

from django.conf import settings
from django.test import Client

from shopapp.recs.services import products_upsert
from shopapp.recs.store import StoredRecs, popular_write, recs_write
from shopapp.redis import get_redis
from shopapp.shopify.signatures import app_proxy_sign


def _get(shop: str, *, secret: str | None = None, now: float | None = None, **extra: str):
    params = {
        "shop": shop,
        "logged_in_customer_id": "",
        "path_prefix": "/apps/slipstream",
        "visitor": "v1",
        **extra,
    }
    query = app_proxy_sign(params=params, secret=secret or settings.SHOPIFY_API_SECRET, now=now)
    return Client().get(f"/proxy/recommendations?{query}")


def test_signed_request_gets_the_stored_list_with_product_data(shop: str) -> None:
    products_upsert(
        shop=shop,
        products=[{"product_id": "7", "handle": "red-shoe", "title": "Red shoe", "price": "12.5"}],
    )
    recs_write(
        r=get_redis(),
        shop=shop,
        user_id="v1",
        recs=StoredRecs(
            items=["7", "8"],
            scores=[2.0, 1.0],
            model_version="slipstream-popularity/3",
            source="model:popularity",
            computed_at=100.0,
        ),
    )
    response = _get(shop)
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    assert response.json() == {
        "items": [
            {
                "item_id": "7",
                "title": "Red shoe",
                "price": "12.50",
                "currency": "USD",
                "url": "/products/red-shoe",
                "image_url": "",
                "available": True,
                "category": "",
                "score": 2.0,
            },
            {"item_id": "8", "score": 1.0},
        ],
        "model_version": "slipstream-popularity/3",
        "source": "model:popularity",
        "computed_at": 100.0,
    }


def test_forged_signature_is_401(shop: str) -> None:
    response = _get(shop, secret="not-the-app-secret")
    assert (response.status_code, response.json()) == (401, {"error": "invalid_signature"})


def test_stale_timestamp_is_401(shop: str) -> None:
    response = _get(shop, now=time.time() - 600)
    assert (response.status_code, response.json()) == (401, {"error": "timestamp_too_old"})


def test_unknown_shop_is_404(db: None) -> None:
    assert _get("nobody.myshopify.com").status_code == 404


def test_malformed_visitor_or_limit_is_400(shop: str) -> None:
    assert _get(shop, visitor="a b").status_code == 400
    assert _get(shop, limit="99").status_code == 400


def test_shopper_without_recommendations_gets_an_empty_list(shop: str) -> None:
    empty: dict[str, object] = {"items": [], "model_version": None, "source": "none"}
    assert _get(shop, visitor="new-visitor").json() == empty
    assert _get(shop, visitor="").json() == empty  # no consent, so no visitor id


def test_shopper_without_a_list_gets_the_shop_wide_popular_list(shop: str) -> None:
    popular_write(
        r=get_redis(),
        shop=shop,
        recs=StoredRecs(
            items=["9"],
            scores=[4.0],
            model_version="slipstream-popularity/1",
            source="model:popularity",
            computed_at=50.0,
        ),
    )
    body = _get(shop, visitor="first-visit").json()
    assert (body["items"], body["model_version"]) == (
        [{"item_id": "9", "score": 4.0}],
        "slipstream-popularity/1",
    )
