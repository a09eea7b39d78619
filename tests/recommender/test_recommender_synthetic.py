from collections import Counter
from pathlib import Path

import pytest

from recommender.synthetic import (
    DEFAULT_NOW,
    SURGE_HOURS,
    generate_store,
    write_interactions_csv,
)
from recommender.types import Interaction

HOUR = 3600.0


def test_same_seed_gives_identical_store_and_other_seed_does_not() -> None:
    first = generate_store(seed=11, n_shoppers=50)
    second = generate_store(seed=11, n_shoppers=50)
    other = generate_store(seed=12, n_shoppers=50)

    assert first == second
    assert first.interactions != other.interactions


def test_catalogue_has_categories_times_products_with_readable_unique_entries() -> None:
    store = generate_store(n_categories=4, products_per_category=5, n_shoppers=20)

    assert [p.item_id for p in store.products] == [str(1001 + n) for n in range(20)]
    assert Counter(p.category for p in store.products) == {
        "Running shoes": 5,
        "Rain jackets": 5,
        "Yoga mats": 5,
        "Backpacks": 5,
    }
    assert store.products[0].title == "Aero Running Shoe"
    assert store.products[0].handle == "aero-running-shoe"
    assert len({p.title for p in store.products}) == 20
    assert len({p.handle for p in store.products}) == 20
    assert all(round(p.price, 2) == p.price for p in store.products)


def test_interactions_are_sorted_within_the_window_and_use_known_kinds() -> None:
    store = generate_store(days=14)
    times = [i.ts for i in store.interactions]

    assert times == sorted(times)
    assert times[0] >= DEFAULT_NOW - 14 * 86_400.0
    assert times[-1] <= DEFAULT_NOW
    assert {i.interaction for i in store.interactions} == {"view", "cart", "purchase"}
    assert {i.item_id for i in store.interactions} <= {p.item_id for p in store.products}


def test_funnel_narrows_from_views_to_carts_to_purchases() -> None:
    kinds = Counter(i.interaction for i in generate_store().interactions)

    assert kinds["view"] > kinds["cart"] > kinds["purchase"]


def test_surge_items_are_in_stock_and_busier_in_the_last_hours_than_before() -> None:
    store = generate_store(n_shoppers=300)
    recent_start = DEFAULT_NOW - SURGE_HOURS * HOUR
    earlier_start = recent_start - SURGE_HOURS * HOUR
    in_stock = {p.item_id for p in store.products if p.available}

    assert len(store.surge_item_ids) == 3
    assert set(store.surge_item_ids) <= in_stock
    for item_id in store.surge_item_ids:
        views = [
            i.ts for i in store.interactions if i.item_id == item_id and i.interaction == "view"
        ]
        recent = sum(1 for ts in views if ts > recent_start)
        earlier = sum(1 for ts in views if earlier_start < ts <= recent_start)
        # 300 shoppers // 8 = 37 surge views per item, on top of ordinary browsing.
        assert recent >= 37
        assert recent > 5 * earlier


def test_now_shifts_the_whole_history() -> None:
    base = generate_store(n_shoppers=30)
    shifted = generate_store(n_shoppers=30, now=DEFAULT_NOW + 1000.0)

    # approx: ts are rounded to the millisecond after the shift.
    assert [i.ts - 1000.0 for i in shifted.interactions] == pytest.approx(
        [i.ts for i in base.interactions], abs=0.002
    )
    assert [i.item_id for i in shifted.interactions] == [i.item_id for i in base.interactions]


def test_csv_uses_import_header_and_iso_utc_timestamps(tmp_path: Path) -> None:
    path = tmp_path / "interactions.csv"
    interactions = [
        Interaction("shopper-0001", "1001", "view", DEFAULT_NOW),
        Interaction("shopper-0002", "1002", "purchase", DEFAULT_NOW + 61.25),
    ]

    write_interactions_csv(interactions, path)

    assert path.read_text(encoding="utf-8").splitlines() == [
        "user_id,item_id,interaction_type,timestamp",
        "shopper-0001,1001,view,2026-01-01T00:00:00.000Z",
        "shopper-0002,1002,purchase,2026-01-01T00:01:01.250Z",
    ]
