"""Webhooks at the HTTP boundary: HMAC over the raw body, dedupe, and each topic's effect."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from django.conf import settings
from django.test import Client

from shopapp.recs.models import Product
from shopapp.shopify.signatures import webhook_sign
from shopapp.shops.crypto import token_encrypt
from shopapp.shops.models import Shop, ShopCredential, WebhookDelivery

pytestmark = pytest.mark.django_db(transaction=True)


def post(
    topic: str,
    shop: str,
    payload: Any,
    *,
    event_id: str | None = None,
    secret: str | None = None,
    body: bytes | None = None,
    path: str = "/webhooks",
    **headers: Any,
):
    raw = body if body is not None else json.dumps(payload).encode()
    signature = webhook_sign(body=raw, secret=secret or settings.SHOPIFY_API_SECRET)
    return Client().post(
        path,
        data=raw,
        content_type="application/json",
        HTTP_X_SHOPIFY_HMAC_SHA256=headers.pop("hmac", signature),
        HTTP_X_SHOPIFY_TOPIC=topic,
        HTTP_X_SHOPIFY_SHOP_DOMAIN=shop,
        HTTP_X_SHOPIFY_API_VERSION="2026-10",
        HTTP_X_SHOPIFY_WEBHOOK_ID=str(uuid.uuid4()),
        HTTP_X_SHOPIFY_EVENT_ID=event_id or str(uuid.uuid4()),
        **headers,
    )


def _with_credential(shop: str) -> None:
    ShopCredential.objects.create(
        shop=Shop.objects.get(domain=shop), access_token=token_encrypt("shpat_x"), scopes="a"
    )


def test_uninstall_deletes_tokens_and_stops_the_shop_even_twice(shop: str, queued: list[str]):
    _with_credential(shop)
    first = post("app/uninstalled", shop, {"id": 1, "myshopify_domain": shop})
    second = post("app/uninstalled", shop, {"id": 1, "myshopify_domain": shop})  # a new event

    assert (first.status_code, second.status_code) == (200, 200)
    assert len(queued) == 2
    assert not ShopCredential.objects.filter(shop__domain=shop).exists()
    assert not Shop.objects.get(domain=shop).is_active
    assert WebhookDelivery.objects.filter(shop_domain=shop, processed_at__isnull=False).count() == 2
    assert all(d.payload == {} for d in WebhookDelivery.objects.filter(shop_domain=shop))


def test_a_duplicate_delivery_runs_once(shop: str, queued: list[str]):
    event_id = str(uuid.uuid4())
    payload = {"id": 5, "title": "A", "handle": "a", "status": "active", "published_at": "x"}
    responses = [post("products/create", shop, payload, event_id=event_id) for _ in range(3)]
    assert [r.status_code for r in responses] == [200, 200, 200]
    assert queued == [event_id]
    assert b"duplicate" in responses[2].content


@pytest.mark.parametrize(
    "tamper",
    ["body", "hmac", "secret", "missing_hmac", "shop_header"],
)
def test_a_tampered_webhook_is_401(shop: str, queued: list[str], tamper: str):
    payload = {"id": 1, "myshopify_domain": shop, "shop_domain": shop}
    raw = json.dumps(payload).encode()
    signature = webhook_sign(body=raw, secret=settings.SHOPIFY_API_SECRET)
    if tamper == "body":
        response = post("app/uninstalled", shop, None, body=raw.replace(b"1", b"2"), hmac=signature)
    elif tamper == "hmac":
        response = post("app/uninstalled", shop, payload, hmac=signature[:-4] + "AAA=")
    elif tamper == "secret":
        response = post("app/uninstalled", shop, payload, secret="another-apps-secret")
    elif tamper == "missing_hmac":
        response = post("app/uninstalled", shop, payload, hmac="")
    else:  # the shop header is not signed; the signed body names the shop, and they must agree
        response = post("app/uninstalled", "victim.myshopify.com", payload)
    assert response.status_code == 401
    assert queued == []
    assert Shop.objects.get(domain=shop).is_active


def test_bad_input_is_a_clear_4xx_never_a_500(shop: str, queued: list[str]):
    not_json = post("products/update", shop, None, body=b"{not json")
    not_object = post("products/update", shop, [1, 2])
    not_utf8 = post("products/update", shop, None, body=b"\xff\xfe")
    hostile = post("products/update", "evil.com", {"id": 1})
    huge = post("products/update", shop, None, body=b'{"x": "' + b"a" * 2_000_000 + b'"}')
    # Signed by Shopify yet unreadable: permanent, so acknowledged (no retries) and not run.
    assert (not_json.status_code, not_json.content) == (
        200,
        b"received, not processed: body is not JSON (Expecting property name enclosed in double"
        b" quotes: char 1)",
    )
    assert (not_object.status_code, not_object.content) == (
        200,
        b"received, not processed: body is not a JSON object",
    )
    assert not_utf8.status_code == 401
    assert hostile.status_code == 400
    assert huge.status_code in (400, 413)
    assert queued == []


def test_an_unsubscribed_topic_is_acknowledged_and_ignored(shop: str, queued: list[str]):
    response = post("collections/create", shop, {"id": 1})
    assert response.status_code == 200
    assert queued == []


def test_products_webhooks_keep_the_catalogue(shop: str, queued: list[str]):
    product: dict[str, Any] = {
        "id": 632910392,
        "title": "IPod Nano - 8GB",
        "handle": "ipod-nano",
        "product_type": "Cult Products",
        "status": "active",
        "published_at": "2026-11-01T10:00:00-05:00",
        "image": {"src": "https://cdn.shopify.com/ipod.png"},
        "variants": [
            {
                "price": "199.00",
                "inventory_management": "shopify",
                "inventory_quantity": 0,
                "inventory_policy": "deny",
            },
            {
                "price": "179.00",
                "inventory_management": "shopify",
                "inventory_quantity": 3,
                "inventory_policy": "deny",
            },
        ],
    }
    post("products/create", shop, product)
    row = Product.objects.get(shop__domain=shop, product_id="632910392")
    assert (row.title, row.handle, row.category, str(row.price)) == (
        "IPod Nano - 8GB",
        "ipod-nano",
        "Cult Products",
        "179.00",
    )
    assert row.available
    assert row.published

    sold_out = {
        **product,
        "variants": [{**v, "inventory_quantity": 0} for v in product["variants"]],
    }
    post("products/update", shop, sold_out)
    assert not Product.objects.get(pk=row.pk).available

    post("products/delete", shop, {"id": 632910392})
    assert not Product.objects.get(pk=row.pk).published


def test_orders_create_records_the_customers_purchases(shop: str, queued: list[str]):
    from shopapp.events.models import Interaction

    order = {
        "id": 450789469,
        "created_at": "2026-11-20T10:00:00Z",
        "customer": {"id": 207119551, "email": "bob@example.com"},
        "line_items": [
            {"id": 1, "product_id": 632910392},
            {"id": 2, "product_id": None},  # a custom item: no product
        ],
    }
    post("orders/create", shop, order)
    post("orders/create", shop, order)  # a second event for the same order changes nothing
    rows = list(
        Interaction.objects.filter(shop__domain=shop).values_list(
            "user_id", "item_id", "interaction"
        )
    )
    assert rows == [("c:207119551", "632910392", "purchase")]


def test_compliance_topics_arrive_on_their_own_uri(shop: str, queued: list[str]):
    payload = {"shop_id": 1, "shop_domain": shop, "customer": {"id": 9}, "orders_to_redact": []}
    response = post("customers/redact", shop, payload, path="/webhooks/compliance")
    assert response.status_code == 200
    assert len(queued) == 1
