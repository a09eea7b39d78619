"""What must never be recommended, whatever the model says (docs/architecture.md §3.7).

Each is a shop setting: products the merchant excluded, products out of stock, products this
shopper already bought, and (by default) what is in their current window.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence

from shopapp.events.models import Interaction
from shopapp.events.window import WindowEntry
from shopapp.recs.models import Product
from shopapp.shops.selectors import ShopConfig


def shop_exclusions(*, config: ShopConfig) -> set[str]:
    """Excluded for every shopper of the shop."""
    excluded = set(config.excluded_product_ids)
    excluded |= set(
        Product.objects.filter(shop__domain=config.domain, published=False).values_list(
            "product_id", flat=True
        )
    )
    if config.exclude_out_of_stock:
        excluded |= set(
            Product.objects.filter(shop__domain=config.domain, available=False).values_list(
                "product_id", flat=True
            )
        )
    return excluded


def shopper_exclusions(
    *, config: ShopConfig, windows: Mapping[str, Sequence[WindowEntry]]
) -> dict[str, set[str]]:
    """Excluded per shopper: the shop's exclusions plus their purchases and window."""
    shared = shop_exclusions(config=config)
    purchased: dict[str, set[str]] = defaultdict(set)
    if config.exclude_purchased and windows:
        rows = Interaction.objects.filter(
            shop__domain=config.domain, user_id__in=list(windows), interaction="purchase"
        ).values_list("user_id", "item_id")
        for user_id, item_id in rows:
            purchased[user_id].add(item_id)
    return {
        user: shared
        | purchased[user]
        | ({e.item_id for e in window} if config.exclude_window_items else set())
        for user, window in windows.items()
    }
