"""The Redis every process shares, and one connection pool per process, created lazily (after a
fork, never before)."""

from __future__ import annotations

import functools

import redis
from django.conf import settings


def redis_url() -> str:
    """REDIS_URL; in development without one, the project's own Redis (shopapp/devredis.py),
    started here by the first process that needs it and found by the others."""
    if settings.REDIS_URL:
        return str(settings.REDIS_URL)
    from shopapp.devredis import local_redis_url  # development only: settings require REDIS_URL

    return local_redis_url(settings.VAR_DIR)


@functools.cache
def get_redis() -> redis.Redis:
    return redis.Redis.from_url(redis_url(), decode_responses=True, health_check_interval=30)
