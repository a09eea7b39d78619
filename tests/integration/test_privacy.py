"""The compliance webhooks end to end, through the collector, the event log and a real worker:
after customers/redact no trace of the customer is left in PostgreSQL or Redis (every row of every
table and every Redis key scanned), and after shop/redact nothing of the shop is left.
"""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.apps import apps
from django.conf import settings
from django.test import Client

from shopapp.demo.tp2 import TRANSACTION, payload, product_event
from shopapp.events.keys import rejections_key
from shopapp.events.models import Interaction
from shopapp.events.services import interactions_import
from shopapp.privacy.models import DataExport
from shopapp.processes import wait_until
from shopapp.recs.store import StoredRecs, recs_write
from shopapp.redis import get_redis
from shopapp.rediskeys import family_of, shop_pattern
from shopapp.shopify.signatures import webhook_sign
from shopapp.shops.models import WebhookDelivery
from tests.tp2 import proxy_tp2_path
from tests.workers_process import consumer_process, queues_clear, worker_env, worker_process

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]
WAIT_S = 60  # for the worker to handle what a step sent it


@pytest.fixture(autouse=True)
def _clean_queues() -> Iterator[None]:
    queues_clear()
    yield
    queues_clear()


def _ids() -> dict[str, str]:
    tag = uuid.uuid4().hex[:8]
    return {
        "customer": f"70{int(tag, 16)}",  # numeric, as Shopify's customer ids are
        "visitor": str(uuid.uuid4()),  # the tracker's visitor ids are random UUIDs
        "other": f"71{int(tag, 16)}",
        "other_visitor": str(uuid.uuid4()),
        "guest_visitor": str(uuid.uuid4()),  # checks out as a guest: order 9002
        "email": f"c-{tag}@example.com",
        "order": f"9{int(tag, 16) % 10**8}",
    }


def _b64(value: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


def _guest_checkout(shop: str, ids: dict[str, str]) -> dict[str, str]:
    """The web pixel's checkout_completed of a guest: a transaction naming Shopify's order id."""
    event = product_event(shop=shop, item="107", duid=ids["guest_visitor"], action="transaction")
    contexts = json.loads(event["co"])
    contexts["data"].append(
        {
            "schema": TRANSACTION,
            "data": {
                "transaction_id": ids["order"],
                "revenue": 10.0,
                "currency": "USD",
                "payment_method": "card",
            },
        }
    )
    event["co"] = json.dumps(contexts)
    return event


def _rejected_with_email_in_base64(shop: str, ids: dict[str, str]) -> dict[str, str]:
    """An event whose only mention of the customer is inside a base64 field (`cx`), rejected
    (it has no visitor id): a plain-text search of the kept rejections cannot see them."""
    event = product_event(shop=shop, item="108", duid="")
    del event["co"]
    event["cx"] = _b64(
        {
            "schema": "iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-0",
            "data": [
                {"schema": "iglu:com.acme/user/jsonschema/1-0-0", "data": {"e": ids["email"]}}
            ],
        }
    )
    return event


def _webhook(topic: str, shop: str, body: dict[str, Any], path: str = "/webhooks/compliance"):
    raw = json.dumps(body).encode()
    response = Client().post(
        path,
        data=raw,
        content_type="application/json",
        HTTP_X_SHOPIFY_HMAC_SHA256=webhook_sign(body=raw, secret=settings.SHOPIFY_API_SECRET),
        HTTP_X_SHOPIFY_TOPIC=topic,
        HTTP_X_SHOPIFY_SHOP_DOMAIN=shop,
        HTTP_X_SHOPIFY_WEBHOOK_ID=str(uuid.uuid4()),
    )
    assert response.status_code == 200, response.content
    return response


def _handled(shop: str, topic: str, n: int = 1) -> Callable[[], bool]:
    return lambda: (
        WebhookDelivery.objects.filter(
            shop_domain=shop, topic=topic, processed_at__isnull=False
        ).count()
        >= n
    )


def _postgres_text() -> str:
    """Every value of every row of every table of the project, as one text to search."""
    chunks: list[str] = []
    for model in apps.get_models():
        if not model._meta.app_label.startswith(("shops", "events", "recs", "privacy")):
            continue
        for row in model._default_manager.values():
            chunks.append(json.dumps(row, default=str))
    return "\n".join(chunks)


def _redis_value(r: Any, key: str) -> Any:
    kind = r.type(key)
    if kind == "string":
        return r.get(key)
    if kind == "hash":
        return r.hgetall(key)
    if kind == "list":
        return r.lrange(key, 0, -1)
    if kind == "set":
        return sorted(r.smembers(key))
    if kind == "zset":
        return r.zrange(key, 0, -1, withscores=True)
    if kind == "stream":
        return r.xrange(key)
    assert kind == "none", f"{key} is a {kind}: teach this scan to read it"  # none: expired
    return None


def _redis_text() -> str:
    """Every key of the Redis database and its whole value, whatever its type."""
    r = get_redis()
    chunks: list[str] = []
    for key in r.scan_iter(count=1000):
        chunks.append(f"{key} {_redis_value(r, key)!r}")
    return "\n".join(chunks)


def _undeclared_keys(shop: str) -> list[str]:
    """The shop's keys that no declared family accounts for, or that outlive what it declares:
    what redaction, which works from the declarations, could miss."""
    r = get_redis()
    wrong = []
    for key in r.scan_iter(match=shop_pattern(shop), count=1000):
        family, ttl = family_of(key), r.ttl(key)
        if family is None:
            wrong.append(f"{key}: of no declared family (shopapp/*/keys.py)")
        elif family.expires and ttl == -1:
            wrong.append(f"{key}: {family.format} expires, this key never does")
        elif family.ttl_s is not None and ttl > family.ttl_s:
            wrong.append(f"{key}: lives {ttl} s, {family.format} at most {family.ttl_s} s")
    return wrong


def _track(shop: str, key: str, ids: dict[str, str]) -> None:
    """The customer browses anonymously, logs in and browses on (the visitor id is linked to
    them), sends one malformed event (kept as a rejection), and another customer browses too.
    Logged-in browsing comes through the app proxy, whose signature names the customer."""
    batches = [
        ("", [product_event(shop=shop, item="101", duid=ids["visitor"])]),
        (
            ids["customer"],
            [
                product_event(shop=shop, item="102", duid=ids["visitor"]),
                product_event(shop=shop, item="103", duid=ids["visitor"], action="add_to_cart"),
                product_event(shop=shop, item="bad id!", duid=ids["visitor"]),
            ],
        ),
        (ids["other"], [product_event(shop=shop, item="101", duid=ids["other_visitor"])]),
        ("", [product_event(shop=shop, item="104", duid=ids["other_visitor"])]),
        ("", [_guest_checkout(shop, ids)]),
        ("", [_rejected_with_email_in_base64(shop, ids)]),
    ]
    for customer, events in batches:
        response = Client().post(
            proxy_tp2_path(shop, customer), payload(*events), content_type="application/json"
        )
        assert response.status_code == 200, response.content


def test_customer_redact_leaves_no_trace_and_shop_redact_leaves_nothing(
    shop: str, tracking_key: str, tmp_path: Path
) -> None:
    ids = _ids()
    env = worker_env(mlflow_uri=f"sqlite:///{tmp_path / 'mlflow.db'}")
    with (
        consumer_process(env=env, log_dir=tmp_path),
        worker_process(env=env, log_dir=tmp_path, queues="ingest,recommend"),
    ):
        _track(shop, tracking_key, ids)
        wait_until(
            lambda: Interaction.objects.filter(shop__domain=shop).count() == 6,
            what="ingest",
            timeout=WAIT_S,
        )
        # The merchant's import of an older export, keyed by the customer's email (any case).
        interactions_import(
            shop=shop,
            rows=[
                {
                    "user_id": ids["email"].upper(),
                    "item_id": "109",
                    "interaction_type": "purchase",
                    "timestamp": "1767225600",
                }
            ],
        )
        # A delivery whose handling failed keeps its payload (retried later): it names them.
        WebhookDelivery.objects.create(
            delivery_id=f"failed-{uuid.uuid4()}",
            shop_domain=shop,
            topic="orders/create",
            payload={"id": 9003, "customer": {"id": int(ids["customer"]), "email": ids["email"]}},
        )
        _webhook(
            "orders/create",
            shop,
            {
                "id": 9001,
                "created_at": "2026-11-20T10:00:00Z",
                "customer": {"id": int(ids["customer"])},
                "line_items": [{"id": 1, "product_id": 105}],
            },
            path="/webhooks",
        )
        wait_until(_handled(shop, "orders/create"), what="the order", timeout=WAIT_S)
        r = get_redis()
        for user in (f"c:{ids['customer']}", f"v:{ids['visitor']}", f"c:{ids['other']}"):
            recs_write(
                r=r,
                shop=shop,
                user_id=user,
                recs=StoredRecs(
                    items=["106"], scores=[1.0], model_version="m/1", source="test", computed_at=1.0
                ),
            )

        # customers/data_request: an export of everything about the customer.
        _webhook(
            "customers/data_request",
            shop,
            {
                "shop_id": 1,
                "shop_domain": shop,
                "orders_requested": [9001, int(ids["order"])],
                "customer": {"id": int(ids["customer"]), "email": ids["email"], "phone": None},
                "data_request": {"id": 77},
            },
        )
        wait_until(
            _handled(shop, "customers/data_request"), what="the data request", timeout=WAIT_S
        )
        export = DataExport.objects.get(shop__domain=shop, customer_id=ids["customer"]).data
        customer, visitor = f"c:{ids['customer']}", f"v:{ids['visitor']}"
        guest = f"v:{ids['guest_visitor']}"
        assert export["linked_visitor_ids"] == sorted([visitor, guest])
        assert sorted(
            (i["user_id"], i["product_id"], i["interaction"]) for i in export["interactions"]
        ) == sorted(
            [
                (visitor, "101", "view"),
                (customer, "102", "view"),
                (customer, "103", "cart"),
                (customer, "105", "purchase"),
                (guest, "107", "purchase"),
                (f"i:{ids['email']}", "109", "purchase"),
            ]
        )
        assert set(export["recommendations"]) == {customer, visitor}
        assert set(export["recent_window"]) == {customer, visitor, guest}

        # Before: the customer is all over both stores (the test can see what it looks for).
        for where in (_postgres_text(), _redis_text()):
            assert ids["customer"] in where
            assert ids["visitor"] in where
        assert ids["email"] in _postgres_text()  # the import and the failed delivery
        kept_rejections = r.lrange(rejections_key(shop), 0, -1)
        assert any(ids["visitor"] in row for row in kept_rejections)  # the "bad id!" event
        hidden = _rejected_with_email_in_base64(shop, ids)["cx"]
        assert sum(hidden in row for row in kept_rejections) == 1

        # Their events' ids name them too (dedupe keys): those must go as well.
        their_events = list(
            Interaction.objects.filter(
                shop__domain=shop, user_id__in=[customer, visitor]
            ).values_list("event_id", flat=True)
        )
        assert len(their_events) == 4
        assert all(e in _redis_text() for e in their_events[:3])
        guest_events = list(
            Interaction.objects.filter(shop__domain=shop, user_id=guest).values_list(
                "event_id", flat=True
            )
        )
        assert len(guest_events) == 1
        # Every key the whole flow wrote is of a declared family, as long-lived as it says.
        assert _undeclared_keys(shop) == []

        # customers/redact
        _webhook(
            "customers/redact",
            shop,
            {
                "shop_id": 1,
                "shop_domain": shop,
                "customer": {"id": int(ids["customer"]), "email": ids["email"], "phone": None},
                "orders_to_redact": [9001, int(ids["order"])],
            },
        )
        wait_until(_handled(shop, "customers/redact"), what="the redaction", timeout=WAIT_S)
        wait_until(
            lambda: r.llen("ingest") == 0 and r.llen("recommend") == 0,
            what="idle queues",
            timeout=WAIT_S,
        )

        pg, rd = _postgres_text(), _redis_text()
        traces = (ids["customer"], ids["visitor"], ids["guest_visitor"], ids["email"], hidden)
        for trace in (*traces, *their_events, *guest_events):
            assert trace not in pg, f"{trace} left in PostgreSQL"
            assert trace not in rd, f"{trace} left in Redis"
        # ...and nobody else's data went with it.
        for kept in (ids["other"], ids["other_visitor"]):
            assert kept in pg
            assert kept in rd
        assert sorted(
            Interaction.objects.filter(shop__domain=shop).values_list("user_id", "item_id")
        ) == sorted([(f"c:{ids['other']}", "101"), (f"v:{ids['other_visitor']}", "104")])

        # app/uninstalled, then shop/redact 48 hours later: nothing of the shop remains.
        _webhook("app/uninstalled", shop, {"id": 1, "myshopify_domain": shop}, path="/webhooks")
        wait_until(_handled(shop, "app/uninstalled"), what="the uninstall", timeout=WAIT_S)
        _webhook("shop/redact", shop, {"shop_id": 1, "shop_domain": shop})
        wait_until(
            lambda: not WebhookDelivery.objects.filter(shop_domain=shop).exists(),
            what="shop/redact",
            timeout=WAIT_S,
        )

    assert shop not in _postgres_text()
    assert shop not in _redis_text()
