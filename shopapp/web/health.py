from __future__ import annotations

from django.db import connection
from django.http import HttpRequest, JsonResponse
from redis.exceptions import RedisError

from shopapp.redis import get_redis


def health(request: HttpRequest) -> JsonResponse:
    """Liveness of the web process and its two stores; 503 names what is down."""
    checks = {"database": True, "redis": True}
    try:
        connection.ensure_connection()
    except Exception:  # any driver error means "down" here, whatever the backend
        checks["database"] = False
    try:
        get_redis().ping()
    except RedisError:
        checks["redis"] = False
    return JsonResponse(checks, status=200 if all(checks.values()) else 503)
