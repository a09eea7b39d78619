"""Fixtures of the web layer's tests."""

from __future__ import annotations

import pytest

from workers import webhooks as webhook_tasks


@pytest.fixture
def queued(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """What the view queues, run here at once (the worker's own code path, without a broker)."""
    ids: list[str] = []

    def delay(delivery_id: str) -> None:
        ids.append(delivery_id)
        webhook_tasks.handle_webhook.run(delivery_id)

    monkeypatch.setattr(webhook_tasks.handle_webhook, "delay", delay)
    return ids
