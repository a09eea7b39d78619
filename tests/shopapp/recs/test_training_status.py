"""The retraining status a shop's dashboard shows: one value per shop, replaced by each writer,
kept a week."""

from __future__ import annotations

import time
import uuid

import pytest

from shopapp.recs.keys import TRAINING_STATUS_TTL_S, training_status_key
from shopapp.recs.training_status import training_status_get, training_status_set
from shopapp.redis import get_redis


@pytest.fixture
def shop() -> str:
    return f"status-{uuid.uuid4().hex[:8]}.myshopify.com"


def test_there_is_no_status_before_a_retraining(shop: str) -> None:
    assert training_status_get(shop=shop) is None


def test_a_status_holds_what_its_writer_gave_and_when(shop: str) -> None:
    before = time.time()
    training_status_set(
        shop=shop, state="running", step="training covisit", progress=0.5, done=["a", "b"]
    )
    status = training_status_get(shop=shop)
    assert status is not None
    at = status.pop("at")
    assert before <= at <= time.time()
    assert status == {
        "state": "running",
        "step": "training covisit",
        "progress": 0.5,
        "done": ["a", "b"],
    }
    ttl = get_redis().ttl(training_status_key(shop))
    assert TRAINING_STATUS_TTL_S - 5 <= ttl <= TRAINING_STATUS_TTL_S


def test_each_status_replaces_the_last_and_leaves_out_what_it_does_not_know(shop: str) -> None:
    training_status_set(
        shop=shop, state="running", step="training sasrec", progress=0.9, done=["x"]
    )
    training_status_set(shop=shop, state="queued")
    status = training_status_get(shop=shop)
    assert status is not None
    assert sorted(status) == ["at", "state"]
    assert status["state"] == "queued"


def test_each_shop_has_its_own_status(shop: str) -> None:
    training_status_set(shop=shop, state="running")
    assert training_status_get(shop=f"other-{shop}") is None
