from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any

import pytest

from shopapp.events.stream import (
    STREAM,
    Batch,
    events_append,
    stream_group_ensure,
    stream_read,
)
from shopapp.redis import get_redis
from workers import consumer
from workers.consumer import consume_once, consume_step


def _tasks() -> list[tuple[str, list[dict[str, Any]]]]:
    """The ingest tasks queued for Celery, as (shop, batches)."""
    tasks = []
    for raw in reversed(get_redis().lrange("ingest", 0, -1)):  # LPUSHed: oldest last
        _args, kwargs, _embed = json.loads(base64.b64decode(json.loads(raw)["body"]))
        tasks.append((kwargs["shop"], kwargs["batches"]))
    return tasks


def _append(shop: str, events: list[dict[str, str]], at: float) -> None:
    assert (
        events_append(
            r=get_redis(),
            batch=Batch(shop=shop, events=events, received_at=at),
            per_shopper={"v": len(events)},
            shop_limit=10**6,
            shopper_limit=10**6,
        )
        is None
    )


@pytest.fixture(autouse=True)
def _clean() -> Iterator[None]:
    r = get_redis()
    r.delete(STREAM, "ingest")
    stream_group_ensure(r=r)
    yield
    r.delete(STREAM, "ingest")


def test_one_read_becomes_one_task_per_shop_and_leaves_the_log_empty() -> None:
    a1, a2, b1 = {"e": "pv", "n": "1"}, {"e": "pv", "n": "2"}, {"e": "pv", "n": "3"}
    _append("a.myshopify.com", [a1], 10.0)
    _append("b.myshopify.com", [b1], 11.0)
    _append("a.myshopify.com", [a2], 12.0)
    assert consume_once(consumer="c1") == 3
    assert _tasks() == [
        (
            "a.myshopify.com",
            [
                {"events": [a1], "received_at": 10.0, "customer": None},
                {"events": [a2], "received_at": 12.0, "customer": None},
            ],
        ),
        ("b.myshopify.com", [{"events": [b1], "received_at": 11.0, "customer": None}]),
    ]
    assert get_redis().xlen(STREAM) == 0  # acknowledged and deleted


def test_entries_a_dead_consumer_never_acknowledged_are_claimed(monkeypatch: Any) -> None:
    _append("a.myshopify.com", [{"e": "pv"}], 10.0)
    [(_, batch)] = stream_read(r=get_redis(), consumer="died", count=10, block_ms=10)
    assert get_redis().lrange("ingest", 0, -1) == []  # it read them, then died before queuing
    monkeypatch.setattr(consumer, "STALE_MS", 0)
    assert consume_once(consumer="c2", claim=True) == 1
    assert _tasks() == [
        ("a.myshopify.com", [{"events": batch.events, "received_at": 10.0, "customer": None}])
    ]
    assert get_redis().xlen(STREAM) == 0


def test_a_consumer_whose_group_vanished_recreates_it_and_goes_on() -> None:
    get_redis().delete(STREAM)  # Redis restarted empty, or someone flushed it
    consume_step(consumer="c1", claim=False)  # NOGROUP: recreates the group
    _append("a.myshopify.com", [{"e": "pv"}], 10.0)
    consume_step(consumer="c1", claim=False)
    assert _tasks() == [
        ("a.myshopify.com", [{"events": [{"e": "pv"}], "received_at": 10.0, "customer": None}])
    ]
