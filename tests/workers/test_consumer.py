from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from typing import Any

import pytest

from shopapp.events import backpressure
from shopapp.events import services as events_services
from shopapp.events.backpressure import task_done, task_queued, tasks_in_flight
from shopapp.events.keys import IN_FLIGHT, IN_FLIGHT_STALE_S
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
from workers.tasks import tracker_events_ingest


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


@pytest.fixture
def _in_flight() -> Iterator[None]:
    get_redis().delete(IN_FLIGHT.key())
    yield
    get_redis().delete(IN_FLIGHT.key())


def _arrives_while_lingering(monkeypatch: Any, event: dict[str, str]) -> list[float]:
    """Make `event` arrive at the consumer's first poll after its usual linger; returns the
    sleeps it asked for."""
    sleeps: list[float] = []

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        if len(sleeps) == 2:
            _append("a.myshopify.com", [event], 13.0)

    monkeypatch.setattr(consumer.time, "sleep", sleep)
    return sleeps


@pytest.mark.usefixtures("_in_flight")
def test_while_the_workers_are_busy_the_consumer_keeps_reading_into_the_same_task(
    monkeypatch: Any,
) -> None:
    r = get_redis()
    busy = [task_queued(r=r) for _ in range(consumer.BUSY_TASKS)]
    a1, a2 = {"e": "pv", "n": "1"}, {"e": "pv", "n": "2"}
    _append("a.myshopify.com", [a1], 10.0)
    _arrives_while_lingering(monkeypatch, a2)

    assert consume_once(consumer="c1") == 2
    [(_, batches)] = _tasks()
    assert [b["events"] for b in batches] == [[a1], [a2]]
    assert tasks_in_flight(r=r) == consumer.BUSY_TASKS + 1  # the ingest task it queued
    for task_id in busy:
        task_done(r=r, task_id=task_id)
    assert tasks_in_flight(r=r) == 1


@pytest.mark.usefixtures("_in_flight")
def test_an_idle_pipeline_gets_each_read_after_the_short_linger(monkeypatch: Any) -> None:
    a1, a2 = {"e": "pv", "n": "1"}, {"e": "pv", "n": "2"}
    _append("a.myshopify.com", [a1], 10.0)
    sleeps = _arrives_while_lingering(monkeypatch, a2)

    assert consume_once(consumer="c1") == 1
    assert sleeps == [consumer.LINGER_S]  # no poll after it: the task went at once
    [(_, batches)] = _tasks()
    assert [b["events"] for b in batches] == [[a1]]


@pytest.mark.usefixtures("_in_flight")
def test_a_task_lost_with_its_worker_stops_counting_as_in_flight(monkeypatch: Any) -> None:
    r = get_redis()
    task_queued(r=r)
    assert tasks_in_flight(r=r) == 1
    later = time.time() + IN_FLIGHT_STALE_S + 1
    monkeypatch.setattr(backpressure.time, "time", lambda: later)
    assert tasks_in_flight(r=r) == 0


@pytest.mark.usefixtures("_in_flight")
def test_a_pipeline_task_stops_counting_as_in_flight_when_it_ends_even_by_failing(
    monkeypatch: Any,
) -> None:
    def broken(**kwargs: Any) -> list[str]:
        raise ValueError("a bug")

    monkeypatch.setattr(events_services, "tracker_events_ingest", broken)
    r = get_redis()
    task_id = task_queued(r=r)
    assert tasks_in_flight(r=r) == 1
    result = tracker_events_ingest.apply(
        kwargs={"shop": "a.myshopify.com", "batches": []}, task_id=task_id
    )
    assert isinstance(result.result, ValueError)
    assert tasks_in_flight(r=r) == 0
