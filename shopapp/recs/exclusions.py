"""What must never be recommended, whatever the model says (docs/architecture.md §3.7).

Each is a shop setting: products the merchant excluded, products out of stock, products this
shopper already bought, and (by default) what is in their current window.

The shop-wide part (merchant exclusions, unpublished and out-of-stock products) is read on every
refresh, and a large shop has thousands of them; so a worker keeps it per process, keyed by the
shop's catalogue generation (a Redis counter every catalogue write bumps), and hands it to the
model as one shared set, which a neural model turns into one mask per batch instead of one per
shopper. The app proxy re-checks published, in stock and excluded at serve time as well.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Q

from shopapp.events.models import Interaction
from shopapp.events.window import WindowEntry
from shopapp.recs.keys import catalogue_generation_key
from shopapp.recs.models import Product
from shopapp.redis import get_redis
from shopapp.shops.selectors import ShopConfig

# A belt to the generation's braces: a cached set is re-read at least this often, whatever the
# counter says (a flushed Redis restarts it at a number a cached entry may already carry).
SHOP_EXCLUSIONS_MAX_AGE_S = 300.0
_MAX_SHOPS = 10_000

_Key = tuple[str, frozenset[str], bool]
_cache: dict[_Key, tuple[int, float, frozenset[str]]] = {}
_lock = threading.Lock()


@dataclass(frozen=True, slots=True)
class Exclusions:
    """The shop's exclusions, shared by all its shoppers, and each shopper's own."""

    shared: frozenset[str]
    own: Mapping[str, set[str]]

    def of(self, user: str) -> set[str]:
        """Everything excluded for ``user``."""
        return set(self.shared) | self.own.get(user, set())


def catalogue_changed(*, shop: str) -> None:
    """Call after writing the shop's products: cached shop exclusions are re-read. Bumped now
    (so this transaction's own later reads see it) and again after the commit (so a read between
    the two, of the rows before the commit, is not kept)."""
    key = catalogue_generation_key(shop)
    client = get_redis()
    client.incr(key)
    transaction.on_commit(lambda: client.incr(key))


def shop_exclusions(*, config: ShopConfig) -> frozenset[str]:
    """Excluded for every shopper of the shop."""
    key: _Key = (
        config.domain,
        frozenset(config.excluded_product_ids),
        config.exclude_out_of_stock,
    )
    generation = int(get_redis().get(catalogue_generation_key(config.domain)) or 0)
    now = time.monotonic()
    with _lock:
        hit = _cache.get(key)
    if hit is not None and hit[0] == generation and now - hit[1] < SHOP_EXCLUSIONS_MAX_AGE_S:
        return hit[2]
    unwanted = (
        Q(published=False) | Q(available=False)
        if config.exclude_out_of_stock
        else Q(published=False)
    )
    excluded = frozenset(
        {
            *config.excluded_product_ids,
            *Product.objects.filter(unwanted, shop__domain=config.domain).values_list(
                "product_id", flat=True
            ),
        }
    )
    with _lock:
        if len(_cache) >= _MAX_SHOPS:
            _cache.clear()
        _cache[key] = (generation, now, excluded)
    return excluded


def shopper_exclusions(
    *, config: ShopConfig, windows: Mapping[str, Sequence[WindowEntry]]
) -> Exclusions:
    """The shop's exclusions, and per shopper their purchases and window."""
    purchased: dict[str, set[str]] = defaultdict(set)
    if config.exclude_purchased and windows:
        rows = Interaction.objects.filter(
            shop__domain=config.domain, user_id__in=list(windows), interaction="purchase"
        ).values_list("user_id", "item_id")
        for user_id, item_id in rows:
            purchased[user_id].add(item_id)
    return Exclusions(
        shared=shop_exclusions(config=config),
        own={
            user: purchased[user]
            | ({e.item_id for e in window} if config.exclude_window_items else set())
            for user, window in windows.items()
        },
    )
