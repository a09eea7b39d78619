"""A real clickstream through the collector, the event log, the consumer and a Celery worker: the
windows left in Redis are exactly those computed directly from the input, also when a worker is
killed mid-replay and batches are delivered twice."""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from django.db import DEFAULT_DB_ALIAS, connections
from django.test import Client

from shopapp.events.keys import STREAM
from shopapp.events.models import Interaction
from shopapp.events.trending import trending_totals
from shopapp.events.window import window_key, window_read
from shopapp.processes import wait_until
from shopapp.redis import get_redis
from tests.conftest import SHARED_DATA
from tests.replay import (
    YOOCHOOSE_TEST_DAY,
    Click,
    expected_windows,
    synthetic_clicks,
    tp2_bodies,
    yoochoose_clicks,
)
from tests.workers_process import consumer_process, queues_clear, worker_env, worker_process
from workers.tasks import tracker_events_ingest

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.django_db(transaction=True)]
WINDOW_S, MAX_EVENTS = 300, 50  # the shop defaults
HELD = 40  # tracker requests sent while the first worker's task is held (the tracker resends 20)
VISIBILITY_S = 5  # a task whose worker died is delivered again after this long (production: 600)
POLL_S = 0.5  # the waits count the whole history: not more often, beside a busy worker
INGEST_LOG = re.compile(
    rb"Task "
    + re.escape(tracker_events_ingest.name.encode())
    + rb"\[([0-9a-f-]+)\] (received|succeeded)"
)


@pytest.fixture
def clicks() -> list[Click]:
    """The YOOCHOOSE test day; the project's synthetic stream where ../shared/data is absent."""
    path = SHARED_DATA / YOOCHOOSE_TEST_DAY
    if path.exists():
        return yoochoose_clicks(path)
    if os.environ.get("CI") == "true":
        pytest.fail(f"{path} is required under CI=true")
    return synthetic_clicks()


@pytest.fixture(autouse=True)
def _unlimited(settings: Any) -> Iterator[None]:
    settings.COLLECTOR_RATE_PER_SHOP = settings.COLLECTOR_RATE_PER_SHOPPER = 10**9
    settings.COLLECTOR_RATE_PER_ADDRESS = settings.COLLECTOR_NEW_VISITORS_PER_ADDRESS = 10**9
    queues_clear()
    yield
    queues_clear()  # the refreshes these tests queue but never run must not reach another test


def _post_all(bodies: list[bytes], key: str, client: Client | None = None) -> None:
    client = client or Client()
    for body in bodies:
        response = client.post(
            f"/t/{key}/com.snowplowanalytics.snowplow/tp2", body, content_type="application/json"
        )
        assert response.status_code == 200, response.content


def _trending_total(shop: str, clicks: list[Click]) -> float:
    times = [c.ttm_ms / 1000 for c in clicks]
    totals = trending_totals(r=get_redis(), shop=shop, since=min(times), until=max(times))
    return sum(totals.values())


def _tasks(log: Path, what: bytes) -> set[bytes]:
    """The ids of the ingest tasks that a worker's log says it received (or finished)."""
    return {m[1] for m in INGEST_LOG.finditer(log.read_bytes()) if m[2] == what}


def _finished(log: Path, ids: set[bytes]) -> Callable[[], bool]:
    return lambda: ids <= _tasks(log, b"succeeded")


def _visible_again() -> bool:
    """Every task a worker took and never acknowledged is past the visibility timeout. A worker
    starting now takes them back at once: kombu looks when it starts, then only every ~100 s."""
    oldest = get_redis().zrange("unacked_index", 0, 0, withscores=True)
    return not oldest or time.time() - float(oldest[0][1]) > VISIBILITY_S


def _half_done(shop: str) -> bool:
    """Some shopper of the shop has a window: an ingest task has done its Redis half."""
    return next(get_redis().scan_iter(match=window_key(shop, "*"), count=1000), None) is not None


@contextmanager
def _history_held() -> Iterator[None]:
    """Until the block ends, writes to the interaction history wait (reads go on), on a connection
    of its own: an ingest task writes its windows, then stops at the history, mid-task, as long as
    the block lasts (SQLite: up to worker_env's busy timeout). No sleep, no race to catch it."""
    holder = connections.create_connection(DEFAULT_DB_ALIAS)
    try:
        with holder.cursor() as cursor:
            if holder.vendor == "sqlite":
                cursor.execute("BEGIN IMMEDIATE")  # SQLite locks writes to the whole file
            else:
                cursor.execute("BEGIN")
                cursor.execute(f"LOCK TABLE {Interaction._meta.db_table} IN SHARE MODE")
        yield
    finally:
        holder.close()  # the transaction is rolled back; the lock goes with it


def _windows(shop: str, users: list[str]) -> dict[str, list[tuple[str, float]]]:
    r = get_redis()
    return {u: [(e.item_id, e.ts) for e in window_read(r=r, shop=shop, user_id=u)] for u in users}


def _settled(shop: str, n_events: int) -> Callable[[], bool]:
    # Every event in the history is not enough: a task writes its trending counts after its
    # history rows. A task's message leaves kombu's "unacked" hash only when it has finished
    # (acks_late), so an empty queue and an empty hash mean no task is still at work.
    return lambda: (
        Interaction.objects.filter(shop__domain=shop).count() == n_events
        and get_redis().xlen(STREAM) == 0
        and get_redis().llen("ingest") == 0
        and get_redis().hlen("unacked") == 0
    )


def test_replayed_clickstream_leaves_exactly_the_windows_computed_offline(
    shop: str, tracking_key: str, clicks: list[Click], tmp_path: Path
) -> None:
    expected = expected_windows(clicks, window_s=WINDOW_S, max_events=MAX_EVENTS)
    env = worker_env(mlflow_uri=f"sqlite:///{tmp_path / 'mlflow.db'}")
    with (
        consumer_process(env=env, log_dir=tmp_path),
        worker_process(env=env, log_dir=tmp_path, queues="ingest"),
    ):
        _post_all(list(tp2_bodies(shop, clicks, per_request=25)), tracking_key)
        wait_until(
            _settled(shop, len(clicks)),
            what="the replay to be ingested",
            timeout=240,
            interval=POLL_S,
        )
    assert _windows(shop, sorted(expected)) == expected
    assert Interaction.objects.filter(shop__domain=shop).count() == len(clicks)
    assert _trending_total(shop, clicks) == len(clicks)  # every view counted once


def test_a_worker_killed_mid_replay_and_resent_batches_change_nothing(
    shop: str, tracking_key: str, clicks: list[Click], tmp_path: Path
) -> None:
    expected = expected_windows(clicks, window_s=WINDOW_S, max_events=MAX_EVENTS)
    bodies = list(tp2_bodies(shop, clicks, per_request=25))
    first_log, second_log = tmp_path / "first.log", tmp_path / "second.log"
    env = {
        **worker_env(mlflow_uri=f"sqlite:///{tmp_path / 'mlflow.db'}"),
        "CELERY_VISIBILITY_TIMEOUT": str(VISIBILITY_S),
    }
    client = Client()
    with consumer_process(env=env, log_dir=tmp_path):
        with (
            worker_process(env=env, log_dir=tmp_path, queues="ingest", name="first") as first,
            _history_held(),
        ):
            _post_all(bodies[:HELD], tracking_key, client)
            # The worker's own evidence of a task in progress: windows written, and the task now
            # waits at the history, which it cannot write while it is held.
            wait_until(
                lambda: _half_done(shop),
                what="an ingest task to write its windows",
                timeout=60,
                interval=POLL_S,
            )
            first.kill()  # in the middle of its work: windows written, history not
            in_history = Interaction.objects.filter(shop__domain=shop).count()
        # The kill must have cut a task short, or this test would prove nothing about redelivery.
        cut = _tasks(first_log, b"received") - _tasks(first_log, b"succeeded")
        assert cut, first_log.read_text()[-2000:]
        assert in_history == 0, (in_history, first_log.read_text()[-2000:])
        _post_all(bodies[HELD - 20 :], tracking_key, client)  # the tracker resends 20
        wait_until(
            _visible_again,
            what="the cut task to be past the visibility timeout",
            timeout=60,
            interval=POLL_S,
        )
        with worker_process(env=env, log_dir=tmp_path, queues="ingest", name="second"):
            wait_until(
                _settled(shop, len(clicks)),
                what="the replay to be ingested",
                timeout=300,
                interval=POLL_S,
            )
            # Taken back from the dead worker as this one starts, the cut task runs here in full.
            wait_until(
                _finished(second_log, cut),
                what="the cut task to be redelivered",
                timeout=120,
                interval=POLL_S,
            )
    assert _windows(shop, sorted(expected)) == expected
    assert Interaction.objects.filter(shop__domain=shop).count() == len(clicks)
    assert _trending_total(shop, clicks) == len(clicks)  # every view counted once
