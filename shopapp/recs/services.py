"""Computing a shopper's recommendations from their window, and the catalogue writes."""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

from django.conf import settings

from recommender.predictor import Predictor
from shopapp.events.window import windows_read
from shopapp.recs.catalog import product_from_webhook
from shopapp.recs.exclusions import shop_exclusions, shopper_exclusions
from shopapp.recs.models import Product
from shopapp.recs.predictors import predictor_get
from shopapp.recs.store import StoredRecs, popular_write, recs_write_many
from shopapp.redis import get_redis
from shopapp.shops.models import Shop
from shopapp.shops.selectors import ShopConfig, shop_config_get


def recommendations_refresh(*, shop: str, user_ids: Sequence[str]) -> dict[str, StoredRecs]:
    """Recompute shoppers' top-K from their current windows (one inference batch, one round trip
    each way) and store them for serving. Nothing when the shop is gone or no model serves."""
    config = shop_config_get(domain=shop)
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
    histories = [[(e.item_id, e.ts) for e in windows[u]] for u in user_ids]
    excluded = shopper_exclusions(config=config, windows=windows)
    ranked = _ranked(predictor, histories, config, [excluded[u] for u in user_ids])
    recs = dict(zip(user_ids, ranked, strict=True))
    recs_write_many(r=r, shop=shop, recs=recs)
    return recs


def popular_refresh(*, shop: str) -> StoredRecs | None:
    """The serving model's answer for a shopper with no history: the shop-wide fallback list."""
    config = shop_config_get(domain=shop)
    predictor = _serving_predictor(config)
    if config is None or predictor is None:
        return None
    [recs] = _ranked(predictor, [[]], config, [shop_exclusions(config=config)])
    popular_write(r=get_redis(), shop=shop, recs=recs)
    return recs


def _serving_predictor(config: ShopConfig | None) -> Predictor | None:
    if config is None or not config.active:
        return None
    return predictor_get(kind=settings.SERVING_MODEL_KIND, alias=config.serving_alias)


def _ranked(
    predictor: Predictor,
    histories: list[list[tuple[str, float]]],
    config: ShopConfig,
    excludes: list[set[str]],
) -> list[StoredRecs]:
    batches = predictor.recommend_batch(
        histories=histories, k=config.recommendation_count, excludes=excludes
    )
    now = time.time()
    return [
        StoredRecs(
            items=[s.item_id for s in scored],
            scores=[s.score for s in scored],
            model_version=f"{predictor.name}/{predictor.version}",
            source=f"model:{settings.SERVING_MODEL_KIND}",
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
    if not product_id.isdigit():
        return False
    Product.objects.filter(shop__domain=shop, product_id=product_id).update(
        published=False, available=False
    )
    return True
