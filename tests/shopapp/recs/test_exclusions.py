from __future__ import annotations

from typing import Any

from shopapp.events.models import Interaction
from shopapp.events.window import WindowEntry
from shopapp.recs.exclusions import shop_exclusions, shopper_exclusions
from shopapp.recs.services import product_delete, products_upsert
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
    excluded = shopper_exclusions(config=config, windows=WINDOWS)
    # window, purchased, out of stock, excluded by the merchant
    assert excluded.of("u1") == {"1", "2", "3", "4"}
    assert excluded.of("u2") == {"3", "4"}
    assert excluded.shared == {"3", "4"}


def test_each_filter_follows_its_shop_setting(shop: str) -> None:
    _setup(shop)
    ShopSettings.objects.filter(shop__domain=shop).update(
        exclude_window_items=False, exclude_purchased=False, exclude_out_of_stock=False
    )
    config = shop_config_get(domain=shop)
    assert config is not None
    excluded = shopper_exclusions(config=config, windows=WINDOWS)
    assert (excluded.of("u1"), excluded.of("u2")) == ({"4"}, {"4"})


def test_the_shops_exclusions_are_read_again_exactly_when_its_catalogue_changes(
    shop: str, django_assert_num_queries: Any
) -> None:
    _setup(shop)
    config = shop_config_get(domain=shop)
    assert config is not None
    first = shop_exclusions(config=config)
    with django_assert_num_queries(0):
        assert shop_exclusions(config=config) is first  # cached: the same set, no query
    product_delete(shop=shop, payload={"id": "1"})
    assert shop_exclusions(config=config) == {"1", "3", "4"}
    products_upsert(
        shop=shop, products=[{"product_id": "3", "handle": "p3", "title": "3", "price": "1"}]
    )
    assert shop_exclusions(config=config) == {"1", "4"}  # back in stock
