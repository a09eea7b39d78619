"""The pipeline's tasks, one queue per stage (routes in settings.CELERY_TASK_ROUTES).

Each task is named after the service it calls (`slipstream.<stage>.<service>`), takes plain data
as keyword arguments, is safe to run twice (acks_late redelivers after a crash) and does one thing:
call that service. Beat's tasks that run a per-shop service for every shop end in `_all`.
"""

from __future__ import annotations

import time
from typing import Any

from celery import Task, shared_task
from django.db import OperationalError as DatabaseOperationalError
from redis.exceptions import ConnectionError as RedisConnectionError

from shopapp.events import backpressure, retention
from shopapp.events import services as events
from shopapp.events.identity import is_customer
from shopapp.events.stream import Batch
from shopapp.privacy import services as privacy
from shopapp.recs import scheduling, store, sync, training
from shopapp.recs import services as recs
from shopapp.redis import get_redis
from shopapp.shopify.graphql import ShopifyUnavailable
from shopapp.shops import services as shops
from shopapp.shops.selectors import active_shop_domains
from shopapp.shops.services import NotInstalled

# Errors that a retry can cure (a store restarting); anything else is a bug and fails loudly.
RETRY_TRANSIENT: dict[str, Any] = {
    "autoretry_for": (RedisConnectionError, DatabaseOperationalError),
    "retry_backoff": True,
    "max_retries": 8,
}


@shared_task(
    name="slipstream.ingest.tracker_events_ingest",
    soft_time_limit=60,
    time_limit=90,
    bind=True,
    **RETRY_TRANSIENT,
)
def tracker_events_ingest(self: Task, *, shop: str, batches: list[dict[str, Any]]) -> None:
    """Collector batches ({"events", "received_at", "customer"}) of one shop: normalised into
    windows and history, then a recommendation refresh per shopper whose window changed."""
    try:
        _ingest(shop=shop, batches=batches)
    finally:
        backpressure.task_done(r=get_redis(), task_id=self.request.id)


def _ingest(*, shop: str, batches: list[dict[str, Any]]) -> None:
    users = events.tracker_events_ingest(
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
    claimed = store.refresh_claim(r=get_redis(), shop=shop, users=users)
    if claimed:
        # The oldest acceptance time of the batches: the refresh reports freshness from it.
        recommendations_refresh.apply_async(
            kwargs={
                "shop": shop,
                "user_ids": claimed,
                "accepted_at": min(b["received_at"] for b in batches),
            },
            task_id=backpressure.task_queued(r=get_redis()),
        )


@shared_task(
    name="slipstream.recommend.recommendations_refresh",
    soft_time_limit=30,
    time_limit=45,
    bind=True,
    **RETRY_TRANSIENT,
)
def recommendations_refresh(
    self: Task, *, shop: str, user_ids: list[str], accepted_at: float | None = None
) -> None:
    """One inference batch for the shoppers of one ingested batch; the customers among them
    then have their metaobject published (coalesced: a burst of refreshes, one upsert)."""
    try:
        _refresh(shop=shop, user_ids=user_ids, accepted_at=accepted_at)
    finally:
        backpressure.task_done(r=get_redis(), task_id=self.request.id)


def _refresh(*, shop: str, user_ids: list[str], accepted_at: float | None) -> None:
    r = get_redis()
    store.refresh_release(r=r, shop=shop, user_ids=user_ids)
    refreshed = recs.recommendations_refresh(shop=shop, user_ids=user_ids)
    if refreshed and accepted_at is not None:
        store.freshness_record(r=r, shop=shop, seconds=time.time() - accepted_at)
    customers = store.publish_claim(r=r, shop=shop, users=[u for u in refreshed if is_customer(u)])
    if customers:
        recommendations_publish.apply_async(
            kwargs={"shop": shop, "user_ids": customers}, countdown=store.PUBLISH_DELAY_S
        )


@shared_task(name="slipstream.recommend.popular_refresh_all", soft_time_limit=60, time_limit=90)
def popular_refresh_all() -> None:
    """Beat: every shop's fallback list, so a shopper with no history still gets one."""
    for shop in active_shop_domains():
        recs.popular_refresh(shop=shop)


@shared_task(name="slipstream.publish.tokens_refresh", soft_time_limit=240, time_limit=280)
def tokens_refresh() -> dict[str, int]:
    """Beat: expiring offline tokens refreshed ahead of expiry (the rotated refresh token kept)."""
    return shops.tokens_refresh()


@shared_task(name="slipstream.ingest.exports_expire", soft_time_limit=60, time_limit=90)
def exports_expire() -> int:
    """Beat: customer data exports are deleted after their retention period."""
    return privacy.exports_expire()


@shared_task(
    name="slipstream.train.interactions_expire",
    soft_time_limit=540,
    time_limit=580,
    **RETRY_TRANSIENT,
)
def interactions_expire() -> int:
    """Beat, daily: interaction history past each shop's retention is deleted in bounded
    batches within 8 minutes (idempotent: the next run deletes what is still too old). On the
    train queue, so a long run never holds up ingestion."""
    return retention.interactions_expire()


# Publishing to Shopify: a shop without a token (uninstalled) is skipped; Shopify unreachable
# through every retry of the client is retried by Celery later.
PUBLISH_RETRY: dict[str, Any] = {
    "autoretry_for": (RedisConnectionError, DatabaseOperationalError, ShopifyUnavailable),
    "retry_backoff": 30,
    "max_retries": 10,
}


@shared_task(
    name="slipstream.publish.recommendations_publish",
    soft_time_limit=120,
    time_limit=150,
    **PUBLISH_RETRY,
)
def recommendations_publish(*, shop: str, user_ids: list[str]) -> int:
    """Customers' current lists to their metaobjects (idempotent by handle)."""
    store.publish_release(r=get_redis(), shop=shop, user_ids=user_ids)
    try:
        return sync.recommendations_publish(shop=shop, user_ids=user_ids)
    except NotInstalled:
        return 0


@shared_task(
    name="slipstream.publish.shop_setup", soft_time_limit=120, time_limit=150, **PUBLISH_RETRY
)
def shop_setup(*, shop: str) -> None:
    """After an install: the web pixel activated, and a first catalogue sync started."""
    try:
        shops.web_pixel_ensure(domain=shop)
    except NotInstalled:
        return
    catalog_sync.delay(shop=shop)


CATALOG_POLL_S = 10


@shared_task(
    name="slipstream.publish.catalog_sync",
    bind=True,
    soft_time_limit=240,
    time_limit=280,
    **PUBLISH_RETRY,
)
def catalog_sync(self: Any, *, shop: str, operation_id: str | None = None) -> int | None:
    """Start the catalogue export, then poll it (re-queued, never sleeping in a worker) until it
    is done and read into the catalogue."""
    try:
        if operation_id is None:
            operation_id = sync.catalog_sync_start(shop=shop)
            self.apply_async(
                kwargs={"shop": shop, "operation_id": operation_id}, countdown=CATALOG_POLL_S
            )
            return None
        result = sync.catalog_sync_collect(shop=shop, operation_id=operation_id)
    except NotInstalled:
        return None
    if not result.done:
        self.apply_async(
            kwargs={"shop": shop, "operation_id": operation_id}, countdown=CATALOG_POLL_S
        )
        return None
    return result.products


@shared_task(name="slipstream.publish.shop_setup_all", soft_time_limit=60, time_limit=90)
def shop_setup_all() -> None:
    """Beat, daily: the post-install setup again for every shop (the web pixel checked, the
    catalogue re-synced): webhooks keep the catalogue current, this catches what they missed."""
    for shop in active_shop_domains():
        shop_setup.delay(shop=shop)


@shared_task(name="slipstream.recommend.trending_refresh_all", soft_time_limit=60, time_limit=90)
def trending_refresh_all() -> None:
    """Beat, every minute: each shop's trending-now list (a fallback of every list)."""
    for shop in active_shop_domains():
        recs.trending_refresh(shop=shop)


@shared_task(name="slipstream.train.covisit_refresh_all", soft_time_limit=1800, time_limit=1900)
def covisit_refresh_all() -> None:
    """Beat, every 6 hours: each shop's "also viewed" table from its last 30 days."""
    for shop in active_shop_domains():
        recs.covisit_refresh(shop=shop)


@shared_task(
    name="slipstream.publish.metaobjects_cleanup_all",
    soft_time_limit=600,
    time_limit=660,
    **PUBLISH_RETRY,
)
def metaobjects_cleanup_all() -> None:
    """Beat, daily: metaobject entries of customers gone 30 days are deleted at Shopify."""
    for shop in active_shop_domains():
        try:
            sync.metaobjects_cleanup(shop=shop)
        except NotInstalled:
            continue


@shared_task(name="slipstream.train.shop_models_retrain", soft_time_limit=3000, time_limit=3300)
def shop_models_retrain(*, shop: str) -> str | None:
    """One shop's models retrained on its own history and the kind that serves it chosen
    (queued by beat or by the merchant, under the shop's single-flight claim, released here)."""
    try:
        decision = training.shop_models_retrain(shop=shop)
    finally:
        scheduling.retrain_release(shop=shop)
    return decision.serving_kind if decision is not None else None


@shared_task(name="slipstream.train.shop_models_retrain_all", soft_time_limit=60, time_limit=90)
def shop_models_retrain_all() -> int:
    """Beat, hourly: every shop whose models are due (new shops with history first, then the
    stalest), each queued once; the train queue runs them one after another."""
    queued = 0
    for shop in scheduling.shops_due_for_retraining():
        if scheduling.retrain_claim(shop=shop):
            shop_models_retrain.delay(shop=shop)
            queued += 1
    return queued
