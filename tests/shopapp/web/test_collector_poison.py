"""Bodies made to break a parser get a 400 with the reason from the collector, never a 500, and
nothing of them reaches the event log."""

from __future__ import annotations

import json
from urllib.parse import quote

import pytest
from django.test import Client

from shopapp.demo.tp2 import PAYLOAD, product_event
from tests.tp2 import logged_batches


@pytest.fixture(autouse=True)
def _empty_log(empty_event_log: None) -> None:
    """Every test here starts from an empty event log (tests/conftest.py)."""


def _logged(shop: str) -> int:
    return len(logged_batches(shop))


def _envelope(*events: str) -> bytes:
    return f'{{"schema": "{PAYLOAD}", "data": [{", ".join(events)}]}}'.encode()


def _good(shop: str) -> str:
    return json.dumps(product_event(shop=shop, item="1"))


@pytest.mark.parametrize(
    ("poison", "reason"),
    [
        ("deep", "body is nested deeper than 32 levels"),
        ("deep_event", "body is nested deeper than 32 levels"),
        ("huge_int", "body has a number longer than 40 characters"),
        ("huge_float", "body has a number longer than 40 characters"),
        ("nan", "body has NaN, which JSON does not allow"),
        ("nul", "body has a string with a NUL character (\\u0000)"),
        ("surrogate", "body has a string with a lone surrogate (\\ud800-\\udfff)"),
        ("not_utf8", "body is not JSON (invalid UTF-8 at byte 0)"),
    ],
)
def test_a_poison_body_is_a_400_with_its_reason(
    shop: str, tracking_key: str, poison: str, reason: str
) -> None:
    good = _good(shop)
    body = {
        "deep": b"[" * 1000 + b"]" * 1000,
        "deep_event": _envelope(good, '{"e": ' + "[" * 1000 + "]" * 1000 + "}"),
        "huge_int": _envelope(good, '{"e": ' + "9" * 5000 + "}"),
        "huge_float": _envelope(good, '{"e": 1.' + "5" * 5000 + "}"),
        "nan": _envelope(good, '{"e": NaN}'),
        "nul": _envelope(good, '{"e": "pv\\u0000"}'),
        "surrogate": _envelope(good, '{"e": "\\ud800"}'),
        "not_utf8": b"\xff" + _envelope(good),
    }[poison]
    response = Client().post(
        f"/t/{tracking_key}/com.snowplowanalytics.snowplow/tp2",
        body,
        content_type="application/json",
        headers={"Origin": f"https://{shop}"},
    )
    assert (response.status_code, response.json()) == (400, {"error": reason})
    assert response.headers["Access-Control-Allow-Origin"] == f"https://{shop}"
    assert _logged(shop) == 0


@pytest.mark.parametrize(
    ("query", "reason"),
    [
        ("url=a%00b", "query parameter 'url' has a NUL character (\\u0000)"),
        ("a%00=1", "query parameter 'a\\x00' has a NUL character (\\u0000)"),
    ],
)
def test_a_poison_query_string_is_a_400_with_its_reason(
    shop: str, tracking_key: str, query: str, reason: str
) -> None:
    event = "&".join(f"{k}={quote(v)}" for k, v in product_event(shop=shop, item="1").items())
    response = Client().get(f"/t/{tracking_key}/i?{event}&{query}")
    assert (response.status_code, response.json()) == (400, {"error": reason})
    assert _logged(shop) == 0


def test_poison_inside_a_json_string_field_is_the_workers_to_reject(
    shop: str, tracking_key: str
) -> None:
    """`ue_pr`, `co`, `ue_px` and `cx` are strings to the collector: it logs them, and ingest
    rejects the one event (tests/shopapp/events/test_ingest_poison.py)."""
    event = product_event(shop=shop, item="1", ue_pr="[" * 5000 + "]" * 5000)
    response = Client().post(
        f"/t/{tracking_key}/com.snowplowanalytics.snowplow/tp2",
        _envelope(_good(shop), json.dumps(event)),
        content_type="application/json",
        headers={"Origin": f"https://{shop}"},
    )
    assert (response.status_code, response.json()) == (200, {"accepted": 2})
    assert _logged(shop) == 1
