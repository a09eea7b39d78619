"""The retraining status the dashboard shows: one value, replaced by each writer, kept a week."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from shopapp.recs.keys import TRAIN_STATUS_KEY, TRAINING_STATUS_TTL_S
from shopapp.recs.training_status import training_status_get, training_status_set
from shopapp.redis import get_redis


@pytest.fixture(autouse=True)
def _no_status() -> Iterator[None]:
    get_redis().delete(TRAIN_STATUS_KEY)  # one key for the deployment: no shop to isolate by
    yield
    get_redis().delete(TRAIN_STATUS_KEY)


def test_there_is_no_status_before_a_retraining() -> None:
    assert training_status_get() is None


def test_a_status_holds_what_its_writer_gave_and_when() -> None:
    before = time.time()
    training_status_set(state="running", step="training covisit", progress=0.5, done=["a", "b"])
    status = training_status_get()
    assert status is not None
    at = status.pop("at")
    assert before <= at <= time.time()
    assert status == {
        "state": "running",
        "step": "training covisit",
        "progress": 0.5,
        "done": ["a", "b"],
    }
    assert TRAINING_STATUS_TTL_S - 5 <= get_redis().ttl(TRAIN_STATUS_KEY) <= TRAINING_STATUS_TTL_S


def test_each_status_replaces_the_last_and_leaves_out_what_it_does_not_know() -> None:
    training_status_set(state="running", step="training sasrec", progress=0.9, done=["x"])
    training_status_set(state="queued")
    status = training_status_get()
    assert status is not None
    assert sorted(status) == ["at", "state"]
    assert status["state"] == "queued"
