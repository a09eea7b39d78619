"""Whatever arrives at the collector, it answers with a 4xx or a 2xx, never a 500; and whatever
it accepted, the ingest worker digests without an exception (bad events become rejections)."""

from __future__ import annotations

import base64
import json
from collections import Counter
from typing import Any, cast

import pytest
from django.test import Client
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from shopapp.events.rejections import rejections_key
from shopapp.events.services import tracker_events_ingest
from shopapp.events.stream import STREAM, batch_decode
from shopapp.redis import get_redis
from tests.tp2 import PAYLOAD, product_event

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)
FIELD = st.sampled_from(
    ["e", "eid", "aid", "duid", "uid", "dtm", "stm", "ue_pr", "ue_px", "co", "cx", "tv", "p", "url"]
)


def _b64(value: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


@st.composite
def mutated_event(draw: st.DrawFn, shop: str) -> Any:
    """A real product event with some fields replaced by arbitrary JSON, text or base64."""
    event: dict[str, Any] = product_event(shop=shop, item=draw(st.text(max_size=12)) or "1")
    for field in draw(st.lists(FIELD, max_size=4)):
        event[field] = draw(
            st.one_of(JSON, st.text(max_size=40), JSON.map(_b64), JSON.map(json.dumps))
        )
    return draw(st.one_of(st.just(event), JSON))


@st.composite
def bodies(draw: st.DrawFn, shop: str) -> bytes:
    kind = draw(st.sampled_from(["bytes", "json", "payload"]))
    if kind == "bytes":
        return draw(st.binary(max_size=300))
    if kind == "json":
        return json.dumps(draw(JSON)).encode()
    data = draw(st.one_of(st.lists(mutated_event(shop), max_size=5), JSON))
    return json.dumps({"schema": PAYLOAD, "data": data}).encode()


def _ingest_logged(shop: str) -> None:
    """Run what the collector logged through the worker's ingest, as the consumer would."""
    r = get_redis()
    for entry_id, fields in cast(list[tuple[str, dict[str, str]]], r.xrange(STREAM)):
        tracker_events_ingest(shop=shop, batches=[batch_decode(fields)])  # must never raise
        r.xdel(STREAM, entry_id)


def _rejected(shop: str) -> int:
    return int(get_redis().get(f"{rejections_key(shop)}:count") or 0)


@pytest.fixture(autouse=True)
def _no_rate_limits(settings: Any) -> None:
    # Past the limits every answer would be 429 and the fuzz would stop reaching the parser.
    settings.COLLECTOR_RATE_PER_SHOP = settings.COLLECTOR_RATE_PER_SHOPPER = 10**9


def test_no_body_makes_the_collector_fail(shop: str, tracking_key: str) -> None:
    client = Client()
    seen: Counter[int] = Counter()
    url = f"/t/{tracking_key}/com.snowplowanalytics.snowplow/tp2"

    @hypothesis_settings(
        max_examples=300,
        deadline=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(body=bodies(shop))
    def check(body: bytes) -> None:
        response = client.post(
            url, body, content_type="application/json", headers={"Origin": f"https://{shop}"}
        )
        assert response.status_code in {200, 400}, (response.status_code, body)
        assert "error" in response.json() or "accepted" in response.json()
        seen[response.status_code] += 1
        _ingest_logged(shop)

    check()
    assert seen[200] >= 10 and seen[400] >= 10, seen  # both answers were really exercised
    assert _rejected(shop) >= 10  # and the worker's normaliser really met bad events


def test_no_query_string_makes_the_pixel_fail(shop: str, tracking_key: str) -> None:
    client = Client()
    seen: Counter[int] = Counter()

    @hypothesis_settings(
        max_examples=150,
        deadline=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.function_scoped_fixture],
    )
    @given(
        params=st.dictionaries(
            FIELD | st.text(max_size=6), st.text(max_size=60) | JSON.map(_b64), max_size=8
        )
    )
    def check(params: dict[str, str]) -> None:
        response = client.get(f"/t/{tracking_key}/i", params)
        assert response.status_code in {200, 400}, (response.status_code, params)
        seen[response.status_code] += 1
        _ingest_logged(shop)

    check()
    assert _rejected(shop) >= 10, seen
