"""What the app proxy serves: the shopper's list, topped up so the block is never empty.

Order: the shopper's own list (the model's, computed after their last event), then products
co-visited with the product on the page, then trending now, then popular. Every candidate must be a
product of the shop's catalogue that can be shown (published, in stock unless the merchant allows
otherwise, not excluded) and not the product on the page. One Redis round trip and one query.
"""

from __future__ import annotations

import json
import time
from typing import Any

from shopapp.recs.selectors import products_by_id
from shopapp.recs.store import (
    SERVED_TTL_S,
    StoredRecs,
    covisit_key,
    popular_key,
    recs_key,
    served_key,
    stored_parse,
    trending_key,
)
from shopapp.redis import get_redis
from shopapp.shops.selectors import ShopConfig


def serving_list(
    *, config: ShopConfig, user_id: str | None, product_id: str | None, limit: int
) -> dict[str, Any]:
    shop = config.domain
    pipe = get_redis().pipeline(transaction=False)
    # Without a shopper or a product the key or field is "", which holds nothing.
    pipe.get(recs_key(shop, user_id or ""))
    pipe.hget(covisit_key(shop), product_id or "")
    pipe.get(trending_key(shop))
    pipe.get(popular_key(shop))
    hour_key = served_key(shop, int(time.time() // 3600))
    pipe.incr(hour_key)  # lists served this hour, for the dashboard
    pipe.expire(hour_key, SERVED_TTL_S)
    own_raw, covisit_raw, trending_raw, popular_raw, _, _ = pipe.execute()
    own = stored_parse(own_raw)
    lists: list[tuple[str, StoredRecs]] = []
    if own is not None:
        lists.append((own.source, own))
    if covisit_raw:
        neighbours = json.loads(covisit_raw)
        covisit = StoredRecs(
            items=[str(i) for i, _ in neighbours],
            scores=[float(s) for _, s in neighbours],
            model_version="covisit",
            source="covisit",
            computed_at=0.0,
        )
        lists.append(("covisit", covisit))
    for name, raw in (("trending", trending_raw), ("popular", popular_raw)):
        stored = stored_parse(raw)
        if stored is not None:
            lists.append((name, stored))

    # Each candidate keeps the first list it appears in, and that list's score for it.
    candidates: dict[str, tuple[str, float, StoredRecs]] = {}
    for name, stored in lists:
        for item, score in zip(stored.items, stored.scores, strict=False):
            if item != product_id and item not in config.excluded_product_ids:
                candidates.setdefault(item, (name, score, stored))
    catalog = products_by_id(shop=shop, product_ids=list(candidates))
    chosen: list[dict[str, Any]] = []
    used: list[str] = []
    first: StoredRecs | None = None
    for item, (name, score, stored) in candidates.items():
        product = catalog.get(item)
        if product is None or not product["published"]:
            continue  # not (or no longer) in the shop: no card can be drawn
        if config.exclude_out_of_stock and not product["available"]:
            continue
        chosen.append({**product, "score": score})
        first = first or stored
        if name not in used:
            used.append(name)
        if len(chosen) == limit:
            break
    return {
        "items": chosen,
        # Of the list the first card came from: what the block tags impressions and clicks with.
        "model_version": first.model_version if first is not None else None,
        "source": "+".join(used) if used else "none",
        "computed_at": first.computed_at if first is not None else None,
    }
