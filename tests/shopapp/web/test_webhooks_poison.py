"""Webhook bodies made to break a parser are never a 500 and never reach the worker. One Shopify
signed but no one can read (NUL, NaN, not an object…) is permanent, so it is acknowledged (a
non-2xx would only bring Shopify's 8 retries of the same bytes), logged, and kept with its
reason; one too deep or with huge numbers cannot even have its signature checked: a 400."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from django.conf import settings
from django.test import Client

from shopapp.events.models import Interaction
from shopapp.events.rejections import rejections_list
from shopapp.shopify.signatures import webhook_sign
from shopapp.shops.models import WebhookDelivery

pytestmark = pytest.mark.django_db(transaction=True)


def _post(topic: str, shop: str, body: bytes, delivery_id: str, *, signed: bool = True) -> Any:
    signature = webhook_sign(body=body, secret=settings.SHOPIFY_API_SECRET if signed else "x")
    return Client().post(
        "/webhooks",
        data=body,
        content_type="application/json",
        HTTP_X_SHOPIFY_HMAC_SHA256=signature,
        HTTP_X_SHOPIFY_TOPIC=topic,
        HTTP_X_SHOPIFY_SHOP_DOMAIN=shop,
        HTTP_X_SHOPIFY_API_VERSION="2026-10",
        HTTP_X_SHOPIFY_WEBHOOK_ID=delivery_id,
        HTTP_X_SHOPIFY_EVENT_ID=delivery_id,
    )


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (
            b'{"id": 1, "x": ' + b"[" * 1000 + b"]" * 1000 + b"}",
            "body is nested deeper than 32 levels",
        ),
        (b'{"id": ' + b"9" * 5000 + b"}", "body has a number longer than 40 characters"),
        (b'{"id": -' + b"9" * 41 + b"}", "body has a number longer than 40 characters"),
    ],
)
def test_a_body_no_parser_should_be_handed_is_refused_before_its_signature_check(
    shop: str, queued: list[str], body: bytes, reason: str
) -> None:
    """shopifyapp parses the body before it checks the HMAC and raises on these (RecursionError,
    int's digit limit): that was a 500 for anyone, signed or not. Shopify sends nothing like it."""
    for signed in (True, False):
        delivery_id = str(uuid.uuid4())
        response = _post("products/update", shop, body, delivery_id, signed=signed)
        assert (response.status_code, response.content.decode()) == (400, reason)
    assert queued == []
    assert WebhookDelivery.objects.count() == 0


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b'{"id": 1e999}', "body has a number out of range (1e999)"),
        (b'{"id": NaN}', "body has NaN, which JSON does not allow"),
        (b'{"title": "a\\u0000b"}', "body has a string with a NUL character (\\u0000)"),
        (b'{"title": "\\udc00"}', "body has a string with a lone surrogate (\\ud800-\\udfff)"),
        (b"[1, 2]", "body is not a JSON object"),
        (b'"products"', "body is not a JSON object"),
    ],
)
def test_a_signed_poison_body_is_acknowledged_kept_and_never_run(
    shop: str, queued: list[str], body: bytes, reason: str
) -> None:
    unsigned = _post("products/update", shop, body, str(uuid.uuid4()), signed=False)
    assert unsigned.status_code == 401  # the signature comes first, as for any other body
    delivery_id = str(uuid.uuid4())
    response = _post("products/update", shop, body, delivery_id)
    assert (response.status_code, response.content.decode()) == (
        200,
        f"received, not processed: {reason}",
    )
    assert queued == []
    assert not WebhookDelivery.objects.filter(delivery_id=delivery_id).exists()
    [kept] = rejections_list(shop=shop)
    assert kept["reason"] == f"webhook products/update: {reason}"
    assert json.loads(str(kept["event"])) == {
        "webhook": "products/update",
        "delivery_id": delivery_id,
        "bytes": len(body),
    }


def test_a_body_just_within_the_limits_is_run_by_the_worker(shop: str, queued: list[str]) -> None:
    """32 levels and 40-digit numbers are still JSON we read; the worker copes with them."""
    order = {
        "id": 450789469,
        "created_at": "2026-11-20T10:00:00Z",
        "customer": {"id": int("9" * 40)},  # no Shopify id is this long: not a customer
        "line_items": [{"id": 1, "product_id": 632910392}],
        "note_attributes": [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]],
    }
    delivery_id = str(uuid.uuid4())
    response = _post("orders/create", shop, json.dumps(order).encode(), delivery_id)
    assert (response.status_code, response.content) == (200, b"ok")
    assert queued == [delivery_id]
    assert WebhookDelivery.objects.get(delivery_id=delivery_id).processed_at is not None
    assert Interaction.objects.filter(shop__domain=shop).count() == 0
    assert rejections_list(shop=shop) == []
