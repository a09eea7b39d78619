"""The pipeline's tasks, one queue per stage (routes in settings.CELERY_TASK_ROUTES).

Tasks take plain data, are safe to run twice (acks_late redelivers after a crash) and do one thing:
call a domain service.
"""

from __future__ import annotations

from typing import Any

from celery import shared_task
from django.db import OperationalError as DatabaseOperationalError
from redis.exceptions import ConnectionError as RedisConnectionError

from shopapp.events.services import tracker_events_ingest
from shopapp.events.stream import Batch
from shopapp.privacy.services import exports_expire
from shopapp.recs.services import popular_refresh, recommendations_refresh
from shopapp.recs.store import refresh_claim, refresh_release
from shopapp.redis import get_redis
from shopapp.shops.selectors import active_shop_domains
from shopapp.shops.services import tokens_refresh

# Errors that a retry can cure (a store restarting); anything else is a bug and fails loudly.
RETRY_TRANSIENT: dict[str, Any] = {
    "autoretry_for": (RedisConnectionError, DatabaseOperationalError),
    "retry_backoff": True,
    "max_retries": 8,
}


@shared_task(name="slipstream.ingest.events", soft_time_limit=60, time_limit=90, **RETRY_TRANSIENT)
def ingest_events(shop: str, batches: list[dict[str, Any]]) -> None:
    """Collector batches ({"events", "received_at"}) of one shop: normalised into windows and
    history, then a recommendation refresh per shopper whose window changed."""
    users = tracker_events_ingest(
        shop=shop,
        batches=[
            Batch(shop=shop, events=b["events"], received_at=b["received_at"]) for b in batches
        ],
    )
    claimed = refresh_claim(r=get_redis(), shop=shop, users=users)
    if claimed:
        refresh_recommendations.delay(shop, claimed)


@shared_task(
    name="slipstream.recommend.users", soft_time_limit=30, time_limit=45, **RETRY_TRANSIENT
)
def refresh_recommendations(shop: str, user_ids: list[str]) -> None:
    """One inference batch for the shoppers of one ingested batch."""
    refresh_release(r=get_redis(), shop=shop, user_ids=user_ids)
    recommendations_refresh(shop=shop, user_ids=user_ids)


@shared_task(name="slipstream.recommend.popular", soft_time_limit=60, time_limit=90)
def refresh_popular_lists() -> None:
    """Beat: every shop's fallback list, so a shopper with no history still gets one."""
    for shop in active_shop_domains():
        popular_refresh(shop=shop)


@shared_task(name="slipstream.publish.tokens_refresh", soft_time_limit=240, time_limit=280)
def refresh_tokens() -> dict[str, int]:
    """Beat: expiring offline tokens refreshed ahead of expiry (the rotated refresh token kept)."""
    return tokens_refresh()


@shared_task(name="slipstream.ingest.exports_expire", soft_time_limit=60, time_limit=90)
def expire_data_exports() -> int:
    """Beat: customer data exports are deleted after their retention period."""
    return exports_expire()
