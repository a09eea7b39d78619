"""The pipeline's tasks, one queue per stage (routes in settings.CELERY_TASK_ROUTES).

Tasks take plain data, are safe to run twice (acks_late redelivers after a crash) and do one thing:
call a domain service.
"""

from __future__ import annotations

import json
import time
from typing import Any

from celery import shared_task
from django.db import OperationalError as DatabaseOperationalError
from redis.exceptions import ConnectionError as RedisConnectionError

from shopapp.events.identity import is_customer
from shopapp.events.retention import interactions_expire
from shopapp.events.services import tracker_events_ingest
from shopapp.events.stream import Batch
from shopapp.privacy.services import exports_expire
from shopapp.recs.services import (
    covisit_refresh,
    popular_refresh,
    recommendations_refresh,
    trending_refresh,
)
from shopapp.recs.store import (
    PUBLISH_DELAY_S,
    freshness_record,
    publish_claim,
    publish_release,
    refresh_claim,
    refresh_release,
)
from shopapp.recs.sync import (
    catalog_sync_collect,
    catalog_sync_start,
    metaobjects_cleanup,
    recommendations_publish,
)
from shopapp.recs.training import KINDS, retrain
from shopapp.redis import get_redis
from shopapp.shopify.graphql import ShopifyUnavailable
from shopapp.shops.selectors import active_shop_domains
from shopapp.shops.services import NotInstalled, tokens_refresh, web_pixel_ensure

# Errors that a retry can cure (a store restarting); anything else is a bug and fails loudly.
RETRY_TRANSIENT: dict[str, Any] = {
    "autoretry_for": (RedisConnectionError, DatabaseOperationalError),
    "retry_backoff": True,
    "max_retries": 8,
}


@shared_task(name="slipstream.ingest.events", soft_time_limit=60, time_limit=90, **RETRY_TRANSIENT)
def ingest_events(shop: str, batches: list[dict[str, Any]]) -> None:
    """Collector batches ({"events", "received_at", "customer"}) of one shop: normalised into
    windows and history, then a recommendation refresh per shopper whose window changed."""
    users = tracker_events_ingest(
        shop=shop,
        batches=[
            Batch(
                shop=shop,
                events=b["events"],
                received_at=b["received_at"],
                customer=b.get("customer"),
            )
            for b in batches
        ],
    )
    claimed = refresh_claim(r=get_redis(), shop=shop, users=users)
    if claimed:
        # The oldest acceptance time of the batches: the refresh reports freshness from it.
        refresh_recommendations.delay(shop, claimed, min(b["received_at"] for b in batches))


@shared_task(
    name="slipstream.recommend.users", soft_time_limit=30, time_limit=45, **RETRY_TRANSIENT
)
def refresh_recommendations(
    shop: str, user_ids: list[str], accepted_at: float | None = None
) -> None:
    """One inference batch for the shoppers of one ingested batch; the customers among them
    then have their metaobject published (coalesced: a burst of refreshes, one upsert)."""
    r = get_redis()
    refresh_release(r=r, shop=shop, user_ids=user_ids)
    refreshed = recommendations_refresh(shop=shop, user_ids=user_ids)
    if refreshed and accepted_at is not None:
        freshness_record(r=r, shop=shop, seconds=time.time() - accepted_at)
    customers = publish_claim(r=r, shop=shop, users=[u for u in refreshed if is_customer(u)])
    if customers:
        publish_recommendations.apply_async((shop, customers), countdown=PUBLISH_DELAY_S)


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


@shared_task(
    name="slipstream.train.interactions_expire",
    soft_time_limit=540,
    time_limit=580,
    **RETRY_TRANSIENT,
)
def expire_interactions() -> int:
    """Beat, daily: interaction history past each shop's retention is deleted in bounded
    batches within 8 minutes (idempotent: the next run deletes what is still too old). On the
    train queue, so a long run never holds up ingestion."""
    return interactions_expire()


# Publishing to Shopify: a shop without a token (uninstalled) is skipped; Shopify unreachable
# through every retry of the client is retried by Celery later.
PUBLISH_RETRY: dict[str, Any] = {
    "autoretry_for": (RedisConnectionError, DatabaseOperationalError, ShopifyUnavailable),
    "retry_backoff": 30,
    "max_retries": 10,
}


@shared_task(
    name="slipstream.publish.recommendations", soft_time_limit=120, time_limit=150, **PUBLISH_RETRY
)
def publish_recommendations(shop: str, user_ids: list[str]) -> int:
    """Customers' current lists to their metaobjects (idempotent by handle)."""
    publish_release(r=get_redis(), shop=shop, user_ids=user_ids)
    try:
        return recommendations_publish(shop=shop, user_ids=user_ids)
    except NotInstalled:
        return 0


@shared_task(
    name="slipstream.publish.shop_setup", soft_time_limit=120, time_limit=150, **PUBLISH_RETRY
)
def setup_shop(shop: str) -> None:
    """After an install: the web pixel activated, and a first catalogue sync started."""
    try:
        web_pixel_ensure(domain=shop)
    except NotInstalled:
        return
    sync_catalog.delay(shop)


CATALOG_POLL_S = 10


@shared_task(
    name="slipstream.publish.catalog_sync",
    bind=True,
    soft_time_limit=240,
    time_limit=280,
    **PUBLISH_RETRY,
)
def sync_catalog(self: Any, shop: str, operation_id: str | None = None) -> int | None:
    """Start the catalogue export, then poll it (re-queued, never sleeping in a worker) until it
    is done and read into the catalogue."""
    try:
        if operation_id is None:
            operation_id = catalog_sync_start(shop=shop)
            self.apply_async((shop, operation_id), countdown=CATALOG_POLL_S)
            return None
        result = catalog_sync_collect(shop=shop, operation_id=operation_id)
    except NotInstalled:
        return None
    if not result.done:
        self.apply_async((shop, operation_id), countdown=CATALOG_POLL_S)
        return None
    return result.products


@shared_task(name="slipstream.publish.catalog_sync_all", soft_time_limit=60, time_limit=90)
def sync_all_catalogs() -> None:
    """Beat, daily: the post-install setup again for every shop (the web pixel checked, the
    catalogue re-synced): webhooks keep the catalogue current, this catches what they missed."""
    for shop in active_shop_domains():
        setup_shop.delay(shop)


@shared_task(name="slipstream.recommend.trending", soft_time_limit=60, time_limit=90)
def refresh_trending_lists() -> None:
    """Beat, every minute: each shop's trending-now list (a fallback of every list)."""
    for shop in active_shop_domains():
        trending_refresh(shop=shop)


@shared_task(name="slipstream.train.covisit", soft_time_limit=1800, time_limit=1900)
def rebuild_covisitation() -> None:
    """Beat, every 6 hours: each shop's "also viewed" table from its last 30 days."""
    for shop in active_shop_domains():
        covisit_refresh(shop=shop)


@shared_task(
    name="slipstream.publish.metaobjects_cleanup",
    soft_time_limit=600,
    time_limit=660,
    **PUBLISH_RETRY,
)
def clean_metaobjects() -> None:
    """Beat, daily: metaobject entries of customers gone 30 days are deleted at Shopify."""
    for shop in active_shop_domains():
        try:
            metaobjects_cleanup(shop=shop)
        except NotInstalled:
            continue


TRAIN_STATUS_KEY = "ss:train:status"  # what the dashboard shows of the latest retraining


def _train_status(**status: object) -> None:
    get_redis().set(TRAIN_STATUS_KEY, json.dumps({**status, "at": time.time()}), ex=7 * 24 * 3600)


@shared_task(name="slipstream.train.retrain", soft_time_limit=3000, time_limit=3300)
def retrain_models() -> list[str]:
    """Beat, daily (or the dashboard): each model kind retrained on recent history; promoted
    only if not worse than its champion."""
    done: list[str] = []
    for n, kind in enumerate(KINDS):
        _train_status(state="running", step=f"training {kind}", progress=n / len(KINDS), done=done)
        result = retrain(kind=kind)
        if result is not None:
            verdict = "promoted" if result.promoted else "kept the champion"
            done.append(
                f"{kind} v{result.version} (NDCG@10 {result.challenger_ndcg:.4f}): {verdict}"
            )
        else:
            done.append(f"{kind}: no history to train on")
    _train_status(state="finished", progress=1.0, done=done)
    return done
