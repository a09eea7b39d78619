"""Computing a shopper's recommendations from their window, and the catalogue writes."""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import redis

from recommender.covisit import CoVisitConfig, covisit_fit
from recommender.predictor import Predictor
from recommender.trending import TrendingConfig, trending_rank
from recommender.types import Interaction as Seen
from shopapp.events.models import Interaction
from shopapp.events.selectors import histories_before
from shopapp.events.trending import BUCKET_S, trending_buckets
from shopapp.events.window import WindowEntry, windows_read
from shopapp.recs.catalog import product_from_webhook
from shopapp.recs.exclusions import (
    Exclusions,
    catalogue_changed,
    shop_exclusions,
    shopper_exclusions,
)
from shopapp.recs.fill import covisit_list, fill_chain, sources_joined
from shopapp.recs.models import Product
from shopapp.recs.predictors import predictor_get
from shopapp.recs.store import (
    StoredRecs,
    covisit_read,
    covisit_write,
    popular_read,
    popular_write,
    recs_write_many,
    trending_read,
    trending_write,
)
from shopapp.redis import get_redis
from shopapp.shopify.ids import resource_id
from shopapp.shops.models import Shop
from shopapp.shops.selectors import ShopConfig, shop_config_cached, shop_config_get


def recommendations_refresh(*, shop: str, user_ids: Sequence[str]) -> dict[str, StoredRecs]:
    """Recompute shoppers' top-K from their current windows (one inference batch, one round trip
    each way) and store them for serving. Nothing when the shop is gone or no model serves."""
    recs = recommendations_compute(shop=shop, user_ids=user_ids)
    if recs:
        recs_write_many(r=get_redis(), shop=shop, recs=recs)
    return recs


def recommendations_compute(*, shop: str, user_ids: Sequence[str]) -> dict[str, StoredRecs]:
    """The lists `recommendations_refresh` would store for these shoppers now, without storing
    them (the operator's `manage.py recommendations_for` shows them)."""
    config = shop_config_cached(domain=shop)
    predictor = _serving_predictor(config)
    if config is None or predictor is None or not user_ids:
        return {}
    r = get_redis()
    windows = windows_read(r=r, shop=shop, user_ids=user_ids)
    # A shopper with an empty window (it expired, or they were redacted) is served the shop's
    # popular list by the app proxy; nothing is stored under their id.
    user_ids = [u for u in user_ids if windows.get(u)]
    if not user_ids:
        return {}
    windows = {u: windows[u] for u in user_ids}
    # The model sees the shopper's long-term history (PostgreSQL) followed by their window.
    long_term = histories_before(
        shop_id=config.shop_id,
        before={u: windows[u][0].ts for u in user_ids},
        window_rows=config.window_max_events,
    )
    histories = [long_term[u] + [(e.item_id, e.ts) for e in windows[u]] for u in user_ids]
    excluded = shopper_exclusions(config=config, windows=windows)
    ranked = _ranked(
        predictor,
        histories,
        config,
        shared=excluded.shared,
        own=[excluded.own[u] for u in user_ids],
    )
    recs = dict(zip(user_ids, ranked, strict=True))
    _fill(r=r, shop=shop, config=config, recs=recs, windows=windows, excluded=excluded)
    return recs


def _fill(
    *,
    r: redis.Redis,
    shop: str,
    config: ShopConfig,
    recs: dict[str, StoredRecs],
    windows: Mapping[str, Sequence[WindowEntry]],
    excluded: Exclusions,
) -> None:
    """Top up every list short of the shop's count by the fill chain (recs/fill.py), co-visited
    with the products in this shopper's window. So even a shopper the model knows nothing to say
    about gets a full list."""
    k = config.recommendation_count
    short = [u for u, stored in recs.items() if len(stored.items) < k]
    if not short:
        return
    window_items = {u: list(dict.fromkeys(e.item_id for e in windows[u])) for u in short}
    table = covisit_read(
        r=r, shop=shop, items=sorted({i for items in window_items.values() for i in items})
    )
    trending, popular = trending_read(r=r, shop=shop), popular_read(r=r, shop=shop)
    for user in short:
        stored = recs[user]
        picks = fill_chain(
            own=stored,
            covisit=covisit_list(table, window_items[user]),
            trending=trending,
            popular=popular,
            exclude=excluded.of(user),
        )[:k]
        recs[user] = replace(
            stored,
            items=[p.item_id for p in picks],
            # A filler scores below every model score: it is ranked by its position.
            scores=[p.score if p.origin is stored else 0.0 for p in picks],
            # The model's own source first, even when it had nothing to add: the list is its run.
            source=sources_joined([stored.source, *(p.source for p in picks)]),
        )


def popular_refresh(*, shop: str) -> StoredRecs | None:
    """The serving model's answer for a shopper with no history: the shop-wide fallback list."""
    config = shop_config_get(domain=shop)
    predictor = _serving_predictor(config)
    if config is None or predictor is None:
        return None
    [recs] = _ranked(predictor, [[]], config, shared=shop_exclusions(config=config), own=[set()])
    popular_write(r=get_redis(), shop=shop, recs=recs)
    return recs


def _serving_predictor(config: ShopConfig | None) -> Predictor | None:
    """The shop's own model of the kind that serves it (recs/training.py chooses; the merchant
    may pin one); None before its first retraining, when the fill chain serves alone."""
    if config is None or not config.active or not config.serving_kind:
        return None
    return predictor_get(
        namespace=config.model_namespace, kind=config.serving_kind, alias=config.serving_alias
    )


def _ranked(
    predictor: Predictor,
    histories: list[list[tuple[str, float]]],
    config: ShopConfig,
    *,
    shared: frozenset[str],
    own: list[set[str]],
) -> list[StoredRecs]:
    batches = predictor.recommend_batch(
        histories=histories, k=config.recommendation_count, excludes=own, shared_exclude=shared
    )
    now = time.time()
    return [
        StoredRecs(
            items=[s.item_id for s in scored],
            scores=[s.score for s in scored],
            model_version=f"{predictor.name}/{predictor.version}",
            source=f"model:{predictor.model.kind}",
            computed_at=now,
        )
        for scored in batches
    ]


PRODUCT_FIELDS = ["handle", "title", "category", "price", "currency", "image_url", "available"]


def products_upsert(*, shop: str, products: Iterable[dict[str, object]]) -> int:
    """Insert or update catalogue rows (fields of recs.models.Product); returns how many.
    Collections are updated only by a source that knows them (the catalogue sync)."""
    shop_obj = Shop.objects.get(domain=shop)
    products = list(products)
    rows = [
        Product(
            shop=shop_obj,
            product_id=str(p["product_id"]),
            handle=str(p["handle"]),
            title=str(p["title"]),
            category=str(p.get("category", "")),
            price=Decimal(str(p["price"])),
            currency=str(p.get("currency", "USD")),
            image_url=str(p.get("image_url", "")),
            available=bool(p.get("available", True)),
            published=bool(p.get("published", True)),
            collection_ids=list(p.get("collection_ids") or []),  # type: ignore[call-overload]
        )
        for p in products
    ]
    with_collections = bool(products) and all("collection_ids" in p for p in products)
    with_currency = bool(products) and all("currency" in p for p in products)
    fields = [f for f in PRODUCT_FIELDS if f != "currency" or with_currency]
    Product.objects.bulk_create(
        rows,
        update_conflicts=True,
        unique_fields=["shop", "product_id"],
        update_fields=[*fields, "published", *(["collection_ids"] if with_collections else [])],
    )
    catalogue_changed(shop=shop)
    return len(rows)


def product_webhook_apply(*, shop: str, payload: dict[str, Any]) -> bool:
    """products/create and products/update: the row the block and the post-filters read.
    False (and nothing written) when the payload is not a product we can read."""
    product = product_from_webhook(payload)
    if product is None or not Shop.objects.filter(domain=shop).exists():
        return False
    products_upsert(shop=shop, products=[product])
    return True


def product_delete(*, shop: str, payload: dict[str, Any]) -> bool:
    """products/delete: kept as unpublished, so no model that still knows it can recommend it."""
    product_id = str(payload.get("id", ""))
    if resource_id(product_id) is None:
        return False
    Product.objects.filter(shop__domain=shop, product_id=product_id).update(
        published=False, available=False
    )
    catalogue_changed(shop=shop)
    return True


def trending_refresh(*, shop: str, now: float | None = None) -> StoredRecs | None:
    """Beat: the shop's trending-now list from the last day's hourly counters."""
    config = shop_config_get(domain=shop)
    if config is None or not config.active:
        return None
    current = time.time() if now is None else now
    trend = TrendingConfig()
    r = get_redis()
    now_hour = int(current // BUCKET_S)
    buckets = trending_buckets(
        r=r, shop=shop, hours=range(now_hour - trend.horizon_hours + 1, now_hour + 1)
    )
    excluded = shop_exclusions(config=config)
    ranked = trending_rank(
        buckets, now_hour=now_hour, k=config.recommendation_count + len(excluded), config=trend
    )
    kept = [s for s in ranked if s.item_id not in excluded][: config.recommendation_count]
    recs = StoredRecs(
        items=[s.item_id for s in kept],
        scores=[round(s.score, 6) for s in kept],
        model_version="trending",
        source="trending",
        computed_at=current,
    )
    trending_write(r=r, shop=shop, recs=recs)
    return recs


COVISIT_HISTORY_DAYS = 30
COVISIT_MAX_ROWS = 2_000_000


def covisit_refresh(*, shop: str, now: float | None = None) -> int:
    """Beat: rebuild the shop's item-to-item table from the last 30 days of history. Returns how
    many items have neighbours."""
    config = shop_config_get(domain=shop)
    if config is None or not config.active:
        return 0
    since = datetime.fromtimestamp((time.time() if now is None else now), UTC) - timedelta(
        days=COVISIT_HISTORY_DAYS
    )
    rows = (
        Interaction.objects.filter(shop_id=config.shop_id, ts__gte=since)
        .order_by("-ts")
        .values_list("user_id", "item_id", "interaction", "ts")[:COVISIT_MAX_ROWS]
    )
    table = covisit_fit(
        (
            Seen(user_id=u, item_id=i, interaction=k, ts=ts.timestamp())
            for u, i, k, ts in rows.iterator()
        ),
        CoVisitConfig(),
    )
    covisit_write(
        r=get_redis(),
        shop=shop,
        table={item: [(n.item_id, round(n.score, 6)) for n in ns] for item, ns in table.items()},
    )
    return len(table)
