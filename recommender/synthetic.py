"""A deterministic synthetic store: catalogue plus two weeks of shopper behaviour.

Used by the demo's first start and by tests, so it needs no data files and gives the same output
for the same seed on every machine (``random.Random(seed)`` only, never the wall clock).
"""

from __future__ import annotations

import csv
import random
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from recommender.types import Interaction

# 2026-01-01T00:00:00Z: a fixed "now" keeps the default output identical run to run.
DEFAULT_NOW = 1_767_225_600.0
SURGE_HOURS = 3.0
N_SURGE_ITEMS = 3
CSV_HEADER = ("user_id", "item_id", "interaction_type", "timestamp")

# (category name, noun used in product titles, price range)
_CATEGORIES: tuple[tuple[str, str, tuple[float, float]], ...] = (
    ("Running shoes", "Running Shoe", (60.0, 180.0)),
    ("Rain jackets", "Rain Jacket", (80.0, 250.0)),
    ("Yoga mats", "Yoga Mat", (20.0, 90.0)),
    ("Backpacks", "Backpack", (40.0, 160.0)),
    ("Water bottles", "Water Bottle", (12.0, 45.0)),
    ("Headphones", "Headphones", (50.0, 350.0)),
    ("Desk lamps", "Desk Lamp", (25.0, 120.0)),
    ("Coffee grinders", "Coffee Grinder", (30.0, 220.0)),
    ("Sunglasses", "Sunglasses", (20.0, 190.0)),
    ("Camping tents", "Camping Tent", (90.0, 480.0)),
)
_ADJECTIVES = (
    "Aero", "Summit", "Trail", "Urban", "Breeze", "Nimbus",
    "Drift", "Harbor", "Alpine", "Coastal", "Ember", "Granite",
)  # fmt: skip
# Shopper behaviour: share of views outside the preferred category, and the funnel.
_EXPLORE_RATE = 0.2
_CART_RATE = 0.15
_PURCHASE_RATE = 0.35
_SURGE_CART_RATE = 0.25


@dataclass(frozen=True)
class Product:
    item_id: str
    handle: str
    title: str
    category: str
    price: float
    image_url: str
    available: bool


@dataclass(frozen=True)
class SyntheticStore:
    products: list[Product]
    interactions: list[Interaction]
    surge_item_ids: list[str]


def _handle(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")


def _title(noun: str, *, category_index: int, product_index: int) -> str:
    # Offset per category so that categories do not all start with the same adjective.
    position = product_index + 3 * category_index
    title = f"{_ADJECTIVES[position % len(_ADJECTIVES)]} {noun}"
    if product_index >= len(_ADJECTIVES):
        title += f" {product_index // len(_ADJECTIVES) + 1}"
    return title


def _catalogue(
    rng: random.Random, *, n_categories: int, products_per_category: int
) -> list[Product]:
    products: list[Product] = []
    for c, (category, noun, (low, high)) in enumerate(_CATEGORIES[:n_categories]):
        for p in range(products_per_category):
            title = _title(noun, category_index=c, product_index=p)
            products.append(
                Product(
                    item_id=str(1001 + len(products)),
                    handle=_handle(title),
                    title=title,
                    category=category,
                    price=round(rng.uniform(low, high), 2),
                    image_url="",
                    available=rng.random() >= 0.1,
                )
            )
    return products


@dataclass(frozen=True)
class _Shelf:
    """Per category: item ids and their Zipf-like appeal, so some products are bestsellers."""

    items: list[list[str]]
    appeal: list[list[float]]

    def pick(self, rng: random.Random, category: int) -> str:
        return rng.choices(self.items[category], weights=self.appeal[category])[0]


def _shelf(rng: random.Random, products: Sequence[Product], n_categories: int) -> _Shelf:
    items: list[list[str]] = [[] for _ in range(n_categories)]
    names = [name for name, _, _ in _CATEGORIES[:n_categories]]
    for product in products:
        items[names.index(product.category)].append(product.item_id)
    appeal: list[list[float]] = []
    for category_items in items:
        ranks = rng.sample(range(len(category_items)), len(category_items))
        appeal.append([1.0 / (rank + 1) ** 0.8 for rank in ranks])
    return _Shelf(items=items, appeal=appeal)


def _session(
    rng: random.Random, *, shelf: _Shelf, user_id: str, preferred: int, start: float
) -> list[Interaction]:
    """A browsing session: views a few minutes apart, the odd cart, fewer purchases."""
    events: list[Interaction] = []
    ts = start
    for _ in range(rng.randint(2, 8)):
        explore = rng.random() < _EXPLORE_RATE
        category = rng.randrange(len(shelf.items)) if explore else preferred
        item_id = shelf.pick(rng, category)
        events.append(Interaction(user_id, item_id, "view", round(ts, 3)))
        if rng.random() < _CART_RATE:
            cart_ts = ts + rng.uniform(10.0, 90.0)
            events.append(Interaction(user_id, item_id, "cart", round(cart_ts, 3)))
            if rng.random() < _PURCHASE_RATE:
                purchase_ts = cart_ts + rng.uniform(60.0, 600.0)
                events.append(Interaction(user_id, item_id, "purchase", round(purchase_ts, 3)))
        ts += rng.uniform(30.0, 300.0)
    return events


def _surge(
    rng: random.Random, *, item_ids: Sequence[str], user_ids: Sequence[str], now: float
) -> list[Interaction]:
    """Many shoppers look at the same few items in the last SURGE_HOURS: a trend to detect."""
    events: list[Interaction] = []
    views_per_item = max(10, len(user_ids) // 8)
    for item_id in item_ids:
        for _ in range(views_per_item):
            user_id = rng.choice(user_ids)
            # Start at least 2 minutes before now so that a follow-up cart is not in the future.
            ts = now - rng.uniform(120.0, SURGE_HOURS * 3600.0)
            events.append(Interaction(user_id, item_id, "view", round(ts, 3)))
            if rng.random() < _SURGE_CART_RATE:
                cart_ts = ts + rng.uniform(10.0, 90.0)
                events.append(Interaction(user_id, item_id, "cart", round(cart_ts, 3)))
    return events


def generate_store(
    *,
    seed: int = 7,
    n_categories: int = 6,
    products_per_category: int = 8,
    n_shoppers: int = 300,
    days: int = 14,
    now: float | None = None,
) -> SyntheticStore:
    """Catalogue and interactions (sorted by time) of a small store; same seed, same store."""
    if not 1 <= n_categories <= len(_CATEGORIES):
        raise ValueError(f"n_categories must be between 1 and {len(_CATEGORIES)}")
    if products_per_category < 1 or n_shoppers < 1 or days < 1:
        raise ValueError("products_per_category, n_shoppers and days must be >= 1")
    end = DEFAULT_NOW if now is None else now
    rng = random.Random(seed)
    products = _catalogue(
        rng, n_categories=n_categories, products_per_category=products_per_category
    )
    shelf = _shelf(rng, products, n_categories)
    user_ids = [f"shopper-{n:04d}" for n in range(1, n_shoppers + 1)]
    interactions: list[Interaction] = []
    for user_id in user_ids:
        preferred = rng.randrange(n_categories)
        for _ in range(rng.randint(1, 4)):
            # Sessions last well under an hour, so starting an hour before the end keeps all
            # their events in the past.
            start = rng.uniform(end - days * 86_400.0, end - 3600.0)
            interactions += _session(
                rng, shelf=shelf, user_id=user_id, preferred=preferred, start=start
            )
    in_stock = [product.item_id for product in products if product.available]
    surge_ids = sorted(rng.sample(in_stock, min(N_SURGE_ITEMS, len(in_stock))))
    interactions += _surge(rng, item_ids=surge_ids, user_ids=user_ids, now=end)
    interactions.sort(key=lambda i: (i.ts, i.user_id, i.item_id, i.interaction))
    return SyntheticStore(products=products, interactions=interactions, surge_item_ids=surge_ids)


def _iso_utc(ts: float) -> str:
    stamp = datetime.fromtimestamp(ts, tz=UTC).isoformat(timespec="milliseconds")
    return stamp.replace("+00:00", "Z")


def write_interactions_csv(interactions: Iterable[Interaction], path: Path) -> None:
    """Write the project's offline import format: user_id,item_id,interaction_type,timestamp."""
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(CSV_HEADER)
        for record in interactions:
            writer.writerow(
                (record.user_id, record.item_id, record.interaction, _iso_utc(record.ts))
            )
