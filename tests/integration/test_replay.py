"""A real clickstream through the collector, the event log, the consumer and a Celery worker: the
windows left in Redis are exactly those computed directly from the input, also when a worker is
killed mid-replay and batches are delivered twice."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from shopapp.events.models import Interaction
from shopapp.events.trending import trending_totals
from shopapp.events.window import window_read
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
from tests.workers_process import (
    consumer_process,
    kill_hard,
    queues_clear,
    worker_env,
    worker_process,
)

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.django_db(transaction=True)]
WINDOW_S, MAX_EVENTS = 300, 50  # the shop defaults


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


def _wait(condition: Callable[[], bool], what: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}")


def _trending_total(shop: str, clicks: list[Click]) -> float:
    times = [c.ttm_ms / 1000 for c in clicks]
    totals = trending_totals(r=get_redis(), shop=shop, since=min(times), until=max(times))
    return sum(totals.values())


def _count(log: Path, word: bytes) -> int:
    return log.read_bytes().count(word)


def _windows(shop: str, users: list[str]) -> dict[str, list[tuple[str, float]]]:
    r = get_redis()
    return {u: [(e.item_id, e.ts) for e in window_read(r=r, shop=shop, user_id=u)] for u in users}


def _settled(shop: str, n_events: int) -> Callable[[], bool]:
    return lambda: (
        Interaction.objects.filter(shop__domain=shop).count() == n_events
        and get_redis().xlen("ss:events") == 0
        and get_redis().llen("ingest") == 0
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
        _wait(_settled(shop, len(clicks)), "the replay to be ingested", timeout=240)
    assert _windows(shop, sorted(expected)) == expected
    assert Interaction.objects.filter(shop__domain=shop).count() == len(clicks)
    assert _trending_total(shop, clicks) == len(clicks)  # every view counted once


def test_a_worker_killed_mid_replay_and_resent_batches_change_nothing(
    shop: str, tracking_key: str, clicks: list[Click], tmp_path: Path
) -> None:
    expected = expected_windows(clicks, window_s=WINDOW_S, max_events=MAX_EVENTS)
    bodies = list(tp2_bodies(shop, clicks, per_request=25))
    log = tmp_path / "first.log"
    # A task whose worker died becomes visible again after this long (production: 600 s).
    env = {
        **worker_env(mlflow_uri=f"sqlite:///{tmp_path / 'mlflow.db'}"),
        "CELERY_VISIBILITY_TIMEOUT": "5",
    }
    client = Client()
    with consumer_process(env=env, log_dir=tmp_path):
        with worker_process(env=env, log_dir=tmp_path, queues="ingest", name="first") as first:
            sent = 0
            while sent < len(bodies) and not _count(log, b"received") > _count(log, b"succeeded"):
                _post_all(bodies[sent : sent + 1], tracking_key, client)
                sent += 1
            kill_hard(first)  # a task taken but not finished: killed in the middle of its work
        # The kill must have cut a task short, or this test would prove nothing about redelivery.
        assert _count(log, b"received") > _count(log, b"succeeded"), log.read_text()[-2000:]
        _post_all(bodies[max(0, sent - 20) :], tracking_key, client)  # the tracker resends 20
        with worker_process(env=env, log_dir=tmp_path, queues="ingest", name="second"):
            _wait(_settled(shop, len(clicks)), "the replay to be ingested", timeout=300)
            time.sleep(8)  # past the visibility timeout: any redelivery has landed too
    assert _windows(shop, sorted(expected)) == expected
    assert Interaction.objects.filter(shop__domain=shop).count() == len(clicks)
    assert _trending_total(shop, clicks) == len(clicks)  # every view counted once
