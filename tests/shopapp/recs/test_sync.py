"""The recommendation side's exchange with the stand-in Shopify: metaobjects out, catalogue in,
the web pixel at install, and a customer's entry gone on redaction."""

from __future__ import annotations

import json

import pytest

from shopapp.recs.catalog import bulk_catalog_parse
from shopapp.recs.metaobjects import metaobject_handle
from shopapp.recs.models import Product
from shopapp.recs.services import products_upsert
from shopapp.recs.store import StoredRecs, recs_write
from shopapp.recs.sync import catalog_sync_collect, catalog_sync_start, recommendations_publish
from shopapp.redis import get_redis
from shopapp.shops.models import Shop, ShopSettings
from shopapp.shops.services import web_pixel_ensure
from tests.fakeshopify import FakeShopify

pytestmark = pytest.mark.django_db(transaction=True)


def _recs(shop: str, user: str, items: list[str]) -> None:
    recs_write(
        r=get_redis(),
        shop=shop,
        user_id=user,
        recs=StoredRecs(
            items=items,
            scores=[1.0] * len(items),
            model_version="slipstream-popularity/3",
            source="model",
            computed_at=1_767_225_600.0,
        ),
    )


def test_customers_lists_are_published_and_visitors_are_not(installed: str, fake: FakeShopify):
    _recs(installed, "207119551", ["11", "12"])
    _recs(installed, "3f2a-visitor", ["13"])

    assert (
        recommendations_publish(shop=installed, user_ids=["207119551", "3f2a-visitor", "404"]) == 1
    )

    [(handle, entry)] = fake.entries(installed).items()
    assert handle == metaobject_handle("207119551") and "207119551" not in handle
    assert json.loads(entry["fields"]["products"]) == [
        "gid://shopify/Product/11",
        "gid://shopify/Product/12",
    ]
    assert entry["fields"]["model_version"] == "slipstream-popularity/3"
    assert entry["fields"]["updated_at"] == "2026-01-01T00:00:00+00:00"
    assert len(fake.definitions) == 1  # created because shopify.app.toml was not deployed here


def test_a_merchant_can_keep_lists_out_of_metaobjects(installed: str, fake: FakeShopify):
    ShopSettings.objects.filter(shop__domain=installed).update(metaobject_audience="nobody")
    _recs(installed, "207119551", ["11"])
    assert recommendations_publish(shop=installed, user_ids=["207119551"]) == 0
    assert fake.graphql_log == []


def test_customer_redact_deletes_their_metaobject(installed: str, fake: FakeShopify):
    from shopapp.privacy.services import customer_redact

    _recs(installed, "207119551", ["11"])
    _recs(installed, "207119552", ["12"])
    recommendations_publish(shop=installed, user_ids=["207119551", "207119552"])

    counts = customer_redact(shop_domain=installed, customer_id="207119551")

    assert counts["metaobjects"] == 1
    assert list(fake.entries(installed)) == [metaobject_handle("207119552")]


def _product(n: int, **extra: object) -> dict[str, object]:
    return {
        "id": f"gid://shopify/Product/{n}",
        "handle": f"p{n}",
        "title": f"Product {n}",
        "status": "ACTIVE",
        "productType": "Shoes",
        "onlineStoreUrl": f"https://shop/products/p{n}",
        "totalInventory": 3,
        "tracksInventory": True,
        "priceRangeV2": {"minVariantPrice": {"amount": "19.5", "currencyCode": "EUR"}},
        "featuredMedia": {"preview": {"image": {"url": f"https://cdn/p{n}.png"}}},
        "collections": [{"id": "gid://shopify/Collection/7", "handle": "summer"}],
        **extra,
    }


def test_the_catalogue_sync_reads_the_bulk_export(installed: str, fake: FakeShopify):
    products_upsert(
        shop=installed,
        products=[{"product_id": "99", "handle": "old", "title": "Old", "price": "1"}],
    )
    fake.catalog[installed] = [
        _product(1),
        _product(2, totalInventory=0),  # sold out
        _product(3, status="DRAFT"),
        _product(4, collections=[]),
    ]

    operation = catalog_sync_start(shop=installed)
    first = catalog_sync_collect(shop=installed, operation_id=operation)
    second = catalog_sync_collect(shop=installed, operation_id=operation)

    assert not first.done  # still running at Shopify: polled again later
    assert (second.done, second.products, second.unpublished) == (True, 4, 1)
    rows = {p.product_id: p for p in Product.objects.filter(shop__domain=installed)}
    assert (rows["1"].title, str(rows["1"].price), rows["1"].currency, rows["1"].image_url) == (
        "Product 1",
        "19.50",
        "EUR",
        "https://cdn/p1.png",
    )
    assert rows["1"].collection_ids == ["7"] and rows["4"].collection_ids == []
    assert (rows["1"].available, rows["2"].available) == (True, False)
    assert (rows["1"].published, rows["3"].published) == (True, False)
    assert not rows["99"].published  # gone from Shopify: never recommended again


def test_the_bulk_jsonl_parser_links_children_and_skips_broken_lines():
    lines = [
        json.dumps(
            {"id": "gid://shopify/Product/1", "handle": "a", "title": "A", "status": "ACTIVE"}
        ),
        "{broken",
        json.dumps({"id": "gid://shopify/Collection/5", "__parentId": "gid://shopify/Product/1"}),
        json.dumps({"id": "gid://shopify/Collection/6", "__parentId": "gid://shopify/Product/1"}),
        json.dumps({"id": "not-a-gid", "handle": "x", "title": "X"}),
        "",
    ]
    products, bad = bulk_catalog_parse(lines)
    assert [(p["product_id"], p["collection_ids"]) for p in products] == [("1", ["5", "6"])]
    assert bad == 2


def test_the_web_pixel_is_created_once_and_kept_current(
    installed: str, fake: FakeShopify, settings
):
    first = web_pixel_ensure(domain=installed)
    again = web_pixel_ensure(domain=installed)  # a re-install: nothing to change
    assert first == again
    assert [e[1] for e in fake.effects] == ["webPixelCreate"]
    pixel = json.loads(fake.web_pixels[installed]["settings"])
    key = Shop.objects.get(domain=installed).tracking_key
    assert pixel == {
        "collectorUrl": f"{settings.SHOPIFY_APP_URL}/t/{key}/com.snowplowanalytics.snowplow/tp2",
        "trackCarts": "false",
    }

    Shop.objects.filter(domain=installed).update(tracking_key="rotated-key")
    web_pixel_ensure(domain=installed)
    assert [e[1] for e in fake.effects] == ["webPixelCreate", "webPixelUpdate"]
    assert "rotated-key" in fake.web_pixels[installed]["settings"]


def test_entries_of_customers_gone_30_days_are_cleaned_up(installed: str, fake: FakeShopify):
    from datetime import UTC, datetime

    from shopapp.recs.sync import metaobjects_cleanup

    fake.bucket_maximum, fake.bucket_restore = 10_000.0, 10_000.0  # a large plan: no pacing here
    for n in range(260):  # more than a page
        _recs(installed, str(500_000 + n), ["11"])
    recommendations_publish(shop=installed, user_ids=[str(500_000 + n) for n in range(260)])
    fresh = metaobject_handle("500000")
    for handle, entry in fake.entries(installed).items():
        if handle != fresh:
            entry["updatedAt"] = "2026-09-01T00:00:00Z"

    deleted = metaobjects_cleanup(shop=installed, now=datetime(2026, 11, 24, tzinfo=UTC))

    assert deleted == 259
    assert list(fake.entries(installed)) == [fresh]
