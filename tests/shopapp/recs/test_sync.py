"""The recommendation side's exchange with the stand-in Shopify: metaobjects out, catalogue in,
the web pixel at install, and a customer's entry gone on redaction."""

from __future__ import annotations

import base64
import hashlib
import json
import re

import pytest

from shopapp.events.identity import IdentityError
from shopapp.recs.catalog import bulk_catalog_parse
from shopapp.recs.metaobjects import TYPE, legacy_handle, metaobject_handle
from shopapp.recs.models import Product
from shopapp.recs.services import products_upsert
from shopapp.recs.store import StoredRecs, recs_write
from shopapp.recs.sync import (
    catalog_sync_collect,
    catalog_sync_start,
    recommendation_unpublish,
    recommendations_publish,
)
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


VISITOR = "v:3f2a0c1e-7b4d-4e8a-9c2f-0d1e2f3a4b5c"
POINTER = "app--4242.recommendations"  # `$app` as the stand-in resolves it


def _gid(user_id: str) -> str:
    return f"gid://shopify/Customer/{user_id[2:]}"


def _secret_rotate(settings, new: str, *, fallbacks: list[str]) -> None:
    """SECRET_KEY changes; the shops' token keys, separate in production (SHOPIFY_TOKEN_KEYS),
    stay the ones development derived from the old secret (shopapp/shops/crypto.py)."""
    old = hashlib.sha256(f"slipstream-tokens:{settings.SECRET_KEY}".encode()).digest()
    settings.SHOPIFY_TOKEN_KEYS = [base64.urlsafe_b64encode(old).decode()]
    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = new, fallbacks


def test_the_handle_cannot_be_computed_without_the_server_secret(settings):
    handle = metaobject_handle("c:42")
    assert re.fullmatch(r"c-[0-9a-f]{32}", handle)
    # Not the handle of old, which anyone could compute from the customer id, nor any plain hash.
    assert handle == metaobject_handle("c:42") != legacy_handle("c:42")
    assert legacy_handle("c:42") == "c-" + hashlib.sha256(b"customer:42").hexdigest()[:32]
    assert handle != "c-" + hashlib.sha256(b"c:42").hexdigest()[:32]
    assert handle != metaobject_handle("c:43")
    settings.SECRET_KEY = "another-secret-" + "x" * 40
    assert metaobject_handle("c:42") != handle
    assert metaobject_handle("c:42", secret=settings.SECRET_KEY) == metaobject_handle("c:42")
    with pytest.raises(IdentityError):
        metaobject_handle(VISITOR)  # only customers have entries


def test_customers_lists_are_published_and_visitors_are_not(installed: str, fake: FakeShopify):
    _recs(installed, "c:207119551", ["11", "12"])
    _recs(installed, VISITOR, ["13"])

    assert recommendations_publish(shop=installed, user_ids=["c:207119551", VISITOR, "c:404"]) == 1

    [(handle, entry)] = fake.entries(installed).items()
    assert handle == metaobject_handle("c:207119551")
    assert "207119551" not in handle
    assert json.loads(entry["fields"]["products"]) == [
        "gid://shopify/Product/11",
        "gid://shopify/Product/12",
    ]
    assert entry["fields"]["model_version"] == "slipstream-popularity/3"
    assert entry["fields"]["updated_at"] == "2026-01-01T00:00:00+00:00"
    # The customer's metafield points to the entry; no one else has one.
    assert fake.customer_metafields(installed) == {
        "gid://shopify/Customer/207119551": {
            POINTER: {"type": "metaobject_reference", "value": entry["id"]}
        }
    }
    # Both definitions created, because shopify.app.toml was not deployed here.
    assert len(fake.definitions) == 1
    [pointer] = fake.metafield_definitions.values()
    assert (pointer["ownerType"], pointer["namespace"], pointer["key"], pointer["type"]) == (
        "CUSTOMER",
        "app--4242",
        "recommendations",
        "metaobject_reference",
    )
    assert pointer["access"] == {"admin": "MERCHANT_READ", "storefront": "PUBLIC_READ"}
    assert pointer["validations"] == {
        "metaobject_definition_id": fake.definitions[(installed, TYPE)]["id"]
    }


def test_publishing_again_keeps_one_entry_and_one_pointer(installed: str, fake: FakeShopify):
    _recs(installed, "c:6021", ["11"])
    recommendations_publish(shop=installed, user_ids=["c:6021"])
    _recs(installed, "c:6021", ["12", "13"])
    recommendations_publish(shop=installed, user_ids=["c:6021"])

    [(handle, entry)] = fake.entries(installed).items()
    assert handle == metaobject_handle("c:6021")
    assert json.loads(entry["fields"]["products"]) == [
        "gid://shopify/Product/12",
        "gid://shopify/Product/13",
    ]
    assert fake.customer_metafields(installed) == {
        "gid://shopify/Customer/6021": {
            POINTER: {"type": "metaobject_reference", "value": entry["id"]}
        }
    }


def test_pointers_are_set_25_to_a_call(installed: str, fake: FakeShopify):
    fake.bucket_maximum, fake.bucket_restore = 10_000.0, 10_000.0  # no pacing here
    customers = [f"c:{7_000 + n}" for n in range(60)]
    for customer in customers:
        _recs(installed, customer, ["11"])

    assert recommendations_publish(shop=installed, user_ids=customers) == 60

    calls = [v["metafields"] for _s, name, v in fake.graphql_log if name == "MetafieldsSet"]
    assert [len(c) for c in calls] == [25, 25, 10]
    entries = fake.entries(installed)
    assert fake.customer_metafields(installed) == {
        _gid(c): {
            POINTER: {
                "type": "metaobject_reference",
                "value": entries[metaobject_handle(c)]["id"],
            }
        }
        for c in customers
    }


def test_a_customer_shopify_no_longer_has_costs_the_rest_of_the_batch_nothing(
    installed: str, fake: FakeShopify
):
    customers = ["c:501", "c:502", "c:503"]
    for customer in customers:
        _recs(installed, customer, ["11"])
    fake.deleted_customers.add("gid://shopify/Customer/502")

    assert recommendations_publish(shop=installed, user_ids=customers) == 3

    calls = [v["metafields"] for _s, name, v in fake.graphql_log if name == "MetafieldsSet"]
    assert [[m["ownerId"] for m in c] for c in calls] == [
        [_gid("c:501"), _gid("c:502"), _gid("c:503")],  # refused whole (atomic) ...
        [_gid("c:501"), _gid("c:503")],  # ... so sent again without the one Shopify refused
    ]
    assert sorted(fake.customer_metafields(installed)) == [_gid("c:501"), _gid("c:503")]


def test_without_write_customers_entries_are_still_published(installed: str, fake: FakeShopify):
    """A shop installed before the app asked for write_customers: the entries are written, the
    metafields wait for the merchant's approval (the block fills from the app proxy meanwhile)."""
    fake.scope_withdraw(installed, "write_customers")
    _recs(installed, "c:6021", ["11"])

    assert recommendations_publish(shop=installed, user_ids=["c:6021"]) == 1

    assert list(fake.entries(installed)) == [metaobject_handle("c:6021")]
    assert fake.customer_metafields(installed) == {}
    assert fake.metafield_definitions == {}
    assert recommendation_unpublish(shop=installed, user_ids=["c:6021"]) == 1
    assert fake.entries(installed) == {}


def test_a_merchant_can_keep_lists_out_of_metaobjects(installed: str, fake: FakeShopify):
    ShopSettings.objects.filter(shop__domain=installed).update(metaobject_audience="nobody")
    _recs(installed, "c:207119551", ["11"])
    assert recommendations_publish(shop=installed, user_ids=["c:207119551"]) == 0
    assert fake.graphql_log == []


def test_customer_redact_deletes_their_entry_and_their_pointer(installed: str, fake: FakeShopify):
    from shopapp.privacy.services import Person, customer_redact

    _recs(installed, "c:207119551", ["11"])
    _recs(installed, "c:207119552", ["12"])
    recommendations_publish(shop=installed, user_ids=["c:207119551", "c:207119552"])
    # Entries published before handles needed the secret, under the guessable handle.
    fake.metaobject_put(installed, TYPE, legacy_handle("c:207119551"), {"products": "[]"})
    fake.metaobject_put(installed, TYPE, legacy_handle("c:207119552"), {"products": "[]"})

    counts = customer_redact(shop_domain=installed, person=Person(customer_id="207119551"))

    assert counts["metaobjects"] == 1
    assert sorted(fake.entries(installed)) == sorted(
        [metaobject_handle("c:207119552"), legacy_handle("c:207119552")]
    )
    assert list(fake.customer_metafields(installed)) == ["gid://shopify/Customer/207119552"]


def test_redaction_finds_the_entry_through_the_pointer_after_a_secret_change(
    installed: str, fake: FakeShopify, settings
):
    _recs(installed, "c:6021", ["11"])
    recommendations_publish(shop=installed, user_ids=["c:6021"])
    _secret_rotate(settings, "rotated-without-fallbacks-" + "x" * 40, fallbacks=[])
    assert metaobject_handle("c:6021") not in fake.entries(installed)

    assert recommendation_unpublish(shop=installed, user_ids=["c:6021", VISITOR]) == 1

    assert fake.entries(installed) == {}
    assert fake.customer_metafields(installed) == {}
    assert recommendation_unpublish(shop=installed, user_ids=["c:6021"]) == 0  # twice: nothing


def test_redaction_finds_an_entry_under_an_older_secret(
    installed: str, fake: FakeShopify, settings
):
    """After a rotation that keeps the old key in SECRET_KEY_FALLBACKS, an entry whose pointer
    was lost is still found by its handle under the old key."""
    old = settings.SECRET_KEY
    fake.metaobject_put(installed, TYPE, metaobject_handle("c:6021"), {"products": "[]"})
    _secret_rotate(settings, "new-" + "y" * 50, fallbacks=[old])

    assert recommendation_unpublish(shop=installed, user_ids=["c:6021"]) == 1
    assert fake.entries(installed) == {}


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
    assert rows["1"].collection_ids == ["7"]
    assert rows["4"].collection_ids == []
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
        _recs(installed, f"c:{500_000 + n}", ["11"])
    recommendations_publish(shop=installed, user_ids=[f"c:{500_000 + n}" for n in range(260)])
    fresh = metaobject_handle("c:500000")
    for handle, entry in fake.entries(installed).items():
        if handle != fresh:
            entry["updatedAt"] = "2026-09-01T00:00:00Z"

    deleted = metaobjects_cleanup(shop=installed, now=datetime(2026, 11, 24, tzinfo=UTC))

    assert deleted == 259
    assert list(fake.entries(installed)) == [fresh]
