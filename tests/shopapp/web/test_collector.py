from __future__ import annotations

import base64
import json
from collections.abc import Iterator

import kombu.pools
import pytest
from django.test import Client

from shopapp import celery_app
from shopapp.events.rejections import rejections_list
from shopapp.redis import get_redis
from tests.tp2 import page_view, payload, product_event

URL = "/com.snowplowanalytics.snowplow/tp2"


def _post(body: bytes, origin: str = "https://store.example") -> tuple[int, dict[str, object], str]:
    response = Client().post(URL, body, content_type="application/json", HTTP_ORIGIN=origin)
    return (
        response.status_code,
        json.loads(response.content),
        response["Access-Control-Allow-Origin"],
    )


def _queued(shop: str) -> list[list[dict[str, object]]]:
    """The batches waiting on the ingest queue for this shop (kombu keeps a Redis list)."""
    batches = []
    for raw in get_redis().lrange("ingest", 0, -1):
        args, _kwargs, _embed = json.loads(base64.b64decode(json.loads(raw)["body"]))
        if args[0] == shop:
            batches.append(args[1])
    return batches


@pytest.fixture(autouse=True)
def _empty_queue() -> Iterator[None]:
    get_redis().delete("ingest")
    yield
    get_redis().delete("ingest")


def test_valid_batch_is_queued_and_acknowledged(shop: str) -> None:
    view = product_event(shop=shop, item="5", duid="v7")
    status, body, cors = _post(payload(page_view(shop=shop), view))
    assert (status, cors) == (200, "https://store.example")
    assert body == {"accepted": 2, "interactions": 1, "rejected": 0, "reasons": []}
    [[record]] = _queued(shop)
    assert (record["user_id"], record["item_id"], record["interaction"], record["event_id"]) == (
        "v7",
        "5",
        "view",
        view["eid"],
    )


def test_invalid_events_are_rejected_and_kept_while_the_rest_is_accepted(shop: str) -> None:
    good, bad = product_event(shop=shop, item="5"), product_event(shop=shop, item="6", eid="x")
    status, body, _ = _post(payload(good, bad))
    assert (status, body) == (
        200,
        {"accepted": 1, "interactions": 1, "rejected": 1, "reasons": ["eid is not a UUID"]},
    )
    assert [r["reason"] for r in rejections_list(shop=shop)] == ["eid is not a UUID"]
    assert len(_queued(shop)) == 1


def test_a_batch_with_nothing_valid_is_a_permanent_400(shop: str) -> None:
    status, body, cors = _post(payload(product_event(shop=shop, item="5", eid="x")))
    assert (status, body["accepted"], cors) == (400, 0, "https://store.example")
    assert _queued(shop) == []


def test_unknown_shop_is_404(db: None) -> None:
    status, body, _ = _post(payload(page_view(shop="nobody.myshopify.com")))
    assert (status, body) == (404, {"error": "unknown or uninstalled shop (aid)"})


def test_malformed_body_is_400_not_500(db: None) -> None:
    status, body, _ = _post(b"\xff\xfe garbage")
    assert status == 400
    assert str(body["error"]).startswith("body is not JSON")


def test_oversized_body_is_413(db: None) -> None:
    status, _, _ = _post(b" " * (1024 * 1024 + 1))
    assert status == 413


def test_preflight_allows_the_storefront_origin() -> None:
    response = Client().options(
        URL, HTTP_ORIGIN="https://shop.example", HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST"
    )
    assert response.status_code == 204
    assert response["Access-Control-Allow-Origin"] == "https://shop.example"
    assert response["Access-Control-Allow-Headers"] == "Content-Type, SP-Anonymous"


def _use_broker(url: str) -> None:
    """Point the Celery app at another broker, dropping its pooled connections and producers."""
    celery_app.conf["broker_url"] = url
    # Celery caches connections in kombu's process-wide pools and in two private attributes; a
    # broker switch inside one process has no public API, so the test resets them itself.
    kombu.pools.reset()
    celery_app._pool = None  # type: ignore[attr-defined]
    celery_app.amqp._producer_pool = None  # type: ignore[attr-defined]


def test_queue_down_is_503_so_the_tracker_retries(shop: str) -> None:
    url = celery_app.conf.broker_url
    _use_broker("redis://127.0.0.1:1/0")  # nothing listens on port 1
    try:
        status, body, cors = _post(payload(product_event(shop=shop, item="5")))
    finally:
        _use_broker(url)
    assert (status, body, cors) == (
        503,
        {"error": "queue unavailable, retry"},
        "https://store.example",
    )
