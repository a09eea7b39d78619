"""Switching this process's Celery broker, to make the collector meet a dead queue."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import kombu.pools

from shopapp import celery_app

DEAD_BROKER = "redis://127.0.0.1:1/0"  # nothing listens on port 1


def use_broker(url: str) -> None:
    """Point the Celery app at another broker, dropping its pooled connections and producers."""
    celery_app.conf["broker_url"] = url
    # Celery caches connections in kombu's process-wide pools and in two private attributes; a
    # broker switch inside one process has no public API, so the test resets them itself.
    kombu.pools.reset()
    celery_app._pool = None  # type: ignore[attr-defined]
    celery_app.amqp._producer_pool = None  # type: ignore[attr-defined]


@contextmanager
def queue_down() -> Iterator[None]:
    url = celery_app.conf.broker_url
    use_broker(DEAD_BROKER)
    try:
        yield
    finally:
        use_broker(url)
