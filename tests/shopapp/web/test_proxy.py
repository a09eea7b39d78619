from __future__ import annotations

import time

from django.conf import settings
from django.test import Client

from shopapp.demo.tp2 import DUID, VISITOR
from shopapp.recs.services import products_upsert
from shopapp.recs.store import StoredRecs, popular_write, recs_write
from shopapp.redis import get_redis
from shopapp.shopify.signatures import app_proxy_sign
from tests.tp2 import duid_for


def _get(shop: str, *, secret: str | None = None, now: float | None = None, **extra: str):
    params = {
        "shop": shop,
        "logged_in_customer_id": "",
        "path_prefix": "/apps/slipstream",
        "visitor": DUID,
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
        user_id=VISITOR,
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
                "published": True,
                "category": "",
                "score": 2.0,
            },  # 8 is not in the shop's catalogue: no card can be drawn, so it is left out
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


def test_a_visitor_id_can_never_read_a_customers_list(shop: str) -> None:
    """`visitor=<a customer's id>` names no one: visitor ids are UUIDs, customers are `c:`."""
    mine = StoredRecs(
        items=["7"], scores=[1.0], model_version="m/1", source="model:m", computed_at=1.0
    )
    recs_write(r=get_redis(), shop=shop, user_id="c:207119551", recs=mine)
    for forged in ("207119551", "c:207119551"):
        response = _get(shop, visitor=forged)
        assert (response.status_code, response.json()) == (
            400,
            {"error": "a visitor id (duid) must be a UUID"},
        )


def test_a_logged_in_customer_is_served_their_own_list_whatever_visitor_they_send(
    shop: str,
) -> None:
    products_upsert(
        shop=shop,
        products=[
            {"product_id": n, "handle": f"p{n}", "title": f"P{n}", "price": "1"} for n in "78"
        ],
    )
    recs_write(r=get_redis(), shop=shop, user_id="c:42", recs=_stored(["7"], "model:m"))
    recs_write(r=get_redis(), shop=shop, user_id=VISITOR, recs=_stored(["8"], "model:m"))
    body = _get(shop, logged_in_customer_id="42", visitor=DUID).json()
    assert [i["item_id"] for i in body["items"]] == ["7"]


def test_shopper_without_recommendations_gets_an_empty_list(shop: str) -> None:
    empty: dict[str, object] = {
        "items": [],
        "model_version": None,
        "source": "none",
        "computed_at": None,
    }
    assert _get(shop, visitor=duid_for("new")).json() == empty
    assert _get(shop, visitor="").json() == empty  # no consent, so no visitor id


def test_shopper_without_a_list_gets_the_shop_wide_popular_list(shop: str) -> None:
    products_upsert(
        shop=shop, products=[{"product_id": "9", "handle": "p9", "title": "P9", "price": "1"}]
    )
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
    body = _get(shop, visitor=duid_for("first-visit")).json()
    assert [(i["item_id"], i["score"]) for i in body["items"]] == [("9", 4.0)]
    assert (body["model_version"], body["source"]) == ("slipstream-popularity/1", "popular")


def _stored(items: list[str], source: str) -> StoredRecs:
    return StoredRecs(
        items=items,
        scores=[float(len(items) - n) for n in range(len(items))],
        model_version=f"{source}/1",
        source=source,
        computed_at=10.0,
    )


def test_the_list_is_topped_up_and_only_showable_products_are_served(shop: str) -> None:
    from shopapp.recs.store import covisit_write, trending_write
    from shopapp.shops.models import ShopSettings

    ShopSettings.objects.filter(shop__domain=shop).update(excluded_product_ids=["8"])
    products_upsert(
        shop=shop,
        products=[
            {
                "product_id": pid,
                "handle": f"p{pid}",
                "title": f"P{pid}",
                "price": "5",
                "available": pid != "5",  # out of stock
                "published": pid != "2",  # a draft
            }
            for pid in ("1", "2", "3", "4", "5", "6", "7", "8", "100")
        ],
    )
    r = get_redis()
    recs_write(r=r, shop=shop, user_id=VISITOR, recs=_stored(["2", "1"], "model:popularity"))
    covisit_write(r=r, shop=shop, table={"100": [("100", 9.0), ("3", 2.0), ("1", 1.0)]})
    trending_write(r=r, shop=shop, recs=_stored(["5", "8", "4"], "trending"))
    popular_write(r=r, shop=shop, recs=_stored(["6", "7"], "popular"))

    body = _get(shop, product_id="100", limit="4").json()

    # 2: a draft; 100: the product on the page; 5: out of stock; 8: excluded by the merchant.
    assert [i["item_id"] for i in body["items"]] == ["1", "3", "4", "6"]
    assert body["source"] == "model:popularity+covisit+trending+popular"
    assert body["model_version"] == "model:popularity/1"


def test_a_bad_product_id_is_400(shop: str) -> None:
    assert _get(shop, product_id="gid://x").status_code == 400
