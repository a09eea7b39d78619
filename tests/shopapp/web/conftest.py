"""Fixtures of the web layer's tests."""

from __future__ import annotations

import pytest

from workers import webhooks as webhook_tasks


@pytest.fixture
def queued(monkeypatch: pytest.MonkeyPatch, transactional_db: None) -> list[str]:
    """What the view queues, run here at once (the worker's own code path, without a broker).
    Committed for real (transactional_db): the view queues on commit, as in production."""
    ids: list[str] = []

    def delay(*, delivery_id: str) -> None:
        ids.append(delivery_id)
        webhook_tasks.webhook_process.run(delivery_id=delivery_id)

    monkeypatch.setattr(webhook_tasks.webhook_process, "delay", delay)
    return ids
