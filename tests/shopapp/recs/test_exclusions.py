from __future__ import annotations

from shopapp.events.models import Interaction
from shopapp.events.window import WindowEntry
from shopapp.recs.exclusions import shopper_exclusions
from shopapp.recs.services import products_upsert
from shopapp.shops.models import Shop, ShopSettings
from shopapp.shops.selectors import shop_config_get


def _setup(shop: str) -> None:
    products_upsert(
        shop=shop,
        products=[
            {
                "product_id": pid,
                "handle": f"p{pid}",
                "title": pid,
                "price": "1",
                "available": pid != "3",
            }
            for pid in ("1", "2", "3", "4")
        ],
    )
    Interaction.objects.create(
        shop=Shop.objects.get(domain=shop),
        user_id="u1",
        item_id="2",
        interaction="purchase",
        ts="2026-01-01T00:00:00Z",
        event_id="p1",
    )
    ShopSettings.objects.filter(shop__domain=shop).update(excluded_product_ids=["4"])


WINDOWS = {"u1": [WindowEntry(item_id="1", interaction="view", ts=1.0, event_id="e1")], "u2": []}


def test_out_of_stock_merchant_excluded_purchased_and_window_items_are_never_offered(
    shop: str,
) -> None:
    _setup(shop)
    config = shop_config_get(domain=shop)
    assert config is not None
    assert shopper_exclusions(config=config, windows=WINDOWS) == {
        "u1": {"1", "2", "3", "4"},  # window, purchased, out of stock, excluded by the merchant
        "u2": {"3", "4"},
    }


def test_each_filter_follows_its_shop_setting(shop: str) -> None:
    _setup(shop)
    ShopSettings.objects.filter(shop__domain=shop).update(
        exclude_window_items=False, exclude_purchased=False, exclude_out_of_stock=False
    )
    config = shop_config_get(domain=shop)
    assert config is not None
    assert shopper_exclusions(config=config, windows=WINDOWS) == {"u1": {"4"}, "u2": {"4"}}
