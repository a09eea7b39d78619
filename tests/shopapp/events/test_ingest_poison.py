"""One poison event in a batch costs only itself: it is rejected with its reason and kept, and
every other event of the batch (the consumer has acknowledged it all) is recorded."""

from __future__ import annotations

import base64
import logging
from typing import Any

import pytest

from shopapp.demo.tp2 import product_event
from shopapp.events import services
from shopapp.events.keys import rejections_count_key
from shopapp.events.models import Interaction
from shopapp.events.rejections import rejections_list
from shopapp.events.services import tracker_events_ingest
from shopapp.events.stream import Batch
from shopapp.redis import get_redis

NOW = 1_767_225_600.0
CONTEXTS = "iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-0"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _without(event: dict[str, str], *fields: str) -> dict[str, str]:
    return {k: v for k, v in event.items() if k not in fields}


def _poison(shop: str, kind: str) -> dict[str, str]:
    event = product_event(shop=shop, item="66")
    return {
        "deep_ue_pr": {**event, "ue_pr": "[" * 1000 + "]" * 1000},
        "huge_number_co": {**event, "co": f'{{"schema": "{CONTEXTS}", "data": [{"9" * 5000}]}}'},
        "nul_ue_pr": {**event, "ue_pr": '{"schema": "a\\u0000"}'},
        "surrogate_co": {**event, "co": '{"schema": "\\ud800", "data": []}'},
        "not_utf8_ue_px": {**_without(event, "ue_pr"), "ue_px": _b64(b'{"a": "\xff"}')},
        "deep_cx": {**_without(event, "co"), "cx": _b64(b"[" * 1000 + b"]" * 1000)},
        "huge_cx": {**_without(event, "co"), "cx": "A" * 70_000},
        "huge_dtm": {**event, "dtm": "9" * 400},
    }[kind]


@pytest.mark.parametrize(
    ("kind", "reason"),
    [
        ("deep_ue_pr", "ue_pr is nested deeper than 32 levels"),
        ("huge_number_co", "co has a number longer than 40 characters"),
        ("nul_ue_pr", "ue_pr has a string with a NUL character (\\u0000)"),
        ("surrogate_co", "co has a string with a lone surrogate (\\ud800-\\udfff)"),
        ("not_utf8_ue_px", "ue_px is not JSON (invalid UTF-8 at byte 7)"),
        ("deep_cx", "cx is nested deeper than 32 levels"),
        ("huge_cx", "cx is longer than 65536 characters"),
        ("huge_dtm", "ttm/dtm/stm must be integers (ms)"),
    ],
)
def test_one_poison_event_is_rejected_and_the_rest_of_the_batch_recorded(
    shop: str, kind: str, reason: str
) -> None:
    first = product_event(shop=shop, item="5")
    last = product_event(shop=shop, item="7", encode=True)
    poison = _poison(shop, kind)
    tracker_events_ingest(
        shop=shop, batches=[Batch(shop=shop, events=[first, poison, last], received_at=NOW)]
    )
    assert sorted(Interaction.objects.values_list("event_id", "item_id")) == sorted(
        [(first["eid"], "5"), (last["eid"], "7")]
    )
    kept = rejections_list(shop=shop)
    assert [r["reason"] for r in kept] == [reason]
    assert str(kept[0]["event"]).startswith('{"e": "ue", "eid": "' + poison["eid"])
    assert int(get_redis().get(rejections_count_key(shop)) or 0) == 1


def test_a_bug_in_the_normaliser_costs_only_its_event_and_is_logged(
    shop: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Belt and braces: an exception no one expected (a bug) is logged with its traceback and
    kept as a rejection; it never takes the other events of the merged batch with it."""
    good = product_event(shop=shop, item="5")
    buggy = product_event(shop=shop, item="6")
    normalise = services.tp2_normalise

    def tp2_normalise(*, raw: Any, **kwargs: Any) -> Any:
        if raw["eid"] == buggy["eid"]:
            raise ZeroDivisionError("a bug")
        return normalise(raw=raw, **kwargs)

    monkeypatch.setattr(services, "tp2_normalise", tp2_normalise)
    with caplog.at_level(logging.ERROR, logger="shopapp.events.services"):
        tracker_events_ingest(
            shop=shop,
            batches=[
                Batch(shop=shop, events=[buggy], received_at=NOW),
                Batch(shop=shop, events=[good], received_at=NOW + 1),
            ],
        )
    assert list(Interaction.objects.values_list("event_id", "item_id")) == [(good["eid"], "5")]
    assert [r["reason"] for r in rejections_list(shop=shop)] == [
        "internal error while normalising (logged)"
    ]
    [record] = caplog.records
    assert record.getMessage() == f"normalising one event for {shop} failed"
    assert record.exc_info is not None
    assert record.exc_info[0] is ZeroDivisionError
