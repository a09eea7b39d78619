"""Making this process meet a dead Redis: the collector's event log and Celery's broker."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import kombu.pools
from django.conf import settings

from shopapp import celery_app
from shopapp.redis import get_redis

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
    """Within the block, Redis (event log and broker) is unreachable from this process only;
    worker processes started by the test keep theirs."""
    broker, redis_url = celery_app.conf.broker_url, settings.REDIS_URL
    use_broker(DEAD_BROKER)
    settings.REDIS_URL = DEAD_BROKER
    get_redis.cache_clear()
    try:
        yield
    finally:
        settings.REDIS_URL = redis_url
        get_redis.cache_clear()
        use_broker(broker)
