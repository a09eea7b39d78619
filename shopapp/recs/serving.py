"""What the app proxy serves: the shopper's list, topped up so the block is never empty.

The fill chain of recs/fill.py, co-visited with the product on the page: the shopper's own list
(the model's, computed after their last event), then that product's neighbours, then trending now,
then popular. Every candidate must be a product of the shop's catalogue that can be shown
(published, in stock unless the merchant allows otherwise, not excluded) and not the product on the
page. One Redis round trip and one query, so no window and no purchases are read: those exclusions
shaped the shopper's own list when it was computed, not the shop-wide lists served after it.
"""

from __future__ import annotations

import json
import time
from typing import Any

from shopapp.recs.fill import covisit_list, fill_chain, sources_joined
from shopapp.recs.keys import (
    SERVED_TTL_S,
    covisit_key,
    popular_key,
    recs_key,
    served_key,
    trending_key,
)
from shopapp.recs.selectors import products_by_id
from shopapp.recs.store import stored_parse
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
    neighbours = [(str(i), float(s)) for i, s in json.loads(covisit_raw)] if covisit_raw else []
    candidates = fill_chain(
        own=stored_parse(own_raw),
        covisit=covisit_list({product_id: neighbours}, [product_id]) if product_id else None,
        trending=stored_parse(trending_raw),
        popular=stored_parse(popular_raw),
        exclude={*config.excluded_product_ids, *([product_id] if product_id else [])},
    )
    catalog = products_by_id(shop=shop, product_ids=[p.item_id for p in candidates])
    chosen = [p for p in candidates if _showable(catalog.get(p.item_id), config)][:limit]
    # Of the list the first card came from: what the block tags impressions and clicks with.
    first = chosen[0].origin if chosen else None
    return {
        "items": [{**catalog[p.item_id], "score": p.score} for p in chosen],
        "model_version": first.model_version if first is not None else None,
        "source": sources_joined(p.source for p in chosen) or "none",
        "computed_at": first.computed_at if first is not None else None,
    }


def _showable(product: dict[str, Any] | None, config: ShopConfig) -> bool:
    if product is None or not product["published"]:
        return False  # not (or no longer) in the shop: no card can be drawn
    return bool(product["available"]) or not config.exclude_out_of_stock
