"""Simulated shoppers for the demo, speaking to the collector through the real Snowplow tracker.

Each shopper has a favourite category, browses it with the odd detour, and sometimes adds to cart;
each product page shows them the block's list, whose cards they sometimes click. A product view
every one to three seconds across the crowd keeps the dashboard and the block alive.
"""

from __future__ import annotations

import json
import logging
import random
import threading
import urllib.request
import uuid
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlencode

from snowplow_tracker import EmitterConfiguration, SelfDescribingJson, Snowplow, Subject
from snowplow_tracker.events import PageView, SelfDescribing

from recommender.synthetic import Product
from shopapp.demo.tp2 import ACTION, PRODUCT

# The tracker's modules set their own loggers to INFO at import and log every request.
for _name in ("snowplow_tracker.emitters", "snowplow_tracker.snowplow"):
    logging.getLogger(_name).setLevel(logging.WARNING)

REC = "iglu:app.slipstream/recommendation_{}/jsonschema/1-0-0"  # what tracker.js sends
CLICK_RATE = 0.3  # of the lists a shopper is shown, the share they click a card of
CART_RATE = 0.15


def shoppers_run(
    *,
    endpoint: str,
    shop: str,
    products: Sequence[Product],
    stop: threading.Event,
    n_shoppers: int = 12,
    seed: int = 11,
    storefront: str = "",
) -> None:
    """Drive shoppers until `stop` is set. With `storefront` (the demo's origin), each product
    page also loads the block's list through the app proxy, as the block does, and reports it
    shown; now and then the shopper clicks a card, and their next page is that product."""
    rng = random.Random(seed)
    tracker = Snowplow.create_tracker(
        namespace="demo-shoppers",
        endpoint=endpoint,
        app_id=shop,
        emitter_config=EmitterConfiguration(batch_size=1),
    )
    by_id = {p.item_id: p for p in products}
    categories = sorted({p.category for p in products})
    # Visitor ids are UUIDs, as the tracker's are (the collector refuses anything else).
    crowd = [
        (str(uuid.uuid5(uuid.NAMESPACE_URL, f"demo-shopper-{n}")), rng.choice(categories))
        for n in range(n_shoppers)
    ]
    clicked: dict[str, Product] = {}  # a shopper's next page, when they clicked a card
    while not stop.wait(rng.uniform(1.0, 3.0)):
        visitor, favourite = rng.choice(crowd)
        pool = [p for p in products if p.category == favourite and rng.random() > 0.2] or products
        product = clicked.pop(visitor, None) or rng.choice(list(pool))
        subject = Subject().set_platform("web").set_domain_user_id(visitor)
        tracker.track(
            PageView(page_url=f"https://{shop}/products/{product.handle}", event_subject=subject)
        )
        for kind in ["product_view"] + (["add_to_cart"] if rng.random() < CART_RATE else []):
            _track(tracker, subject, ACTION, {"type": kind}, product=product)
        if storefront:
            choice = _block(
                tracker, subject, rng, storefront=storefront, visitor=visitor, product=product
            )
            if choice in by_id:
                clicked[visitor] = by_id[choice]
    tracker.flush()


def _block(
    tracker: Any,
    subject: Subject,
    rng: random.Random,
    *,
    storefront: str,
    visitor: str,
    product: Product,
) -> str | None:
    """The block on `product`'s page: its list loaded, reported shown, and now and then a card
    clicked (its item id returned)."""
    shown, version = _block_list(storefront, visitor, product)
    if not shown:
        return None
    common = {"model_version": version[:64], "placement": "product"}
    _track(tracker, subject, REC.format("impression"), {"items": shown, **common})
    if rng.random() >= CLICK_RATE:
        return None
    position = rng.randrange(len(shown))
    data = {"item_id": shown[position], "position": position, **common}
    _track(tracker, subject, REC.format("click"), data)
    return shown[position]


def _track(
    tracker: Any,
    subject: Subject,
    schema: str,
    data: dict[str, object],
    *,
    product: Product | None = None,
) -> None:
    context = (
        [
            SelfDescribingJson(
                PRODUCT,
                {
                    "id": product.item_id,
                    "category": product.category,
                    "price": product.price,
                    "currency": "USD",
                },
            )
        ]
        if product is not None
        else None
    )
    tracker.track(
        SelfDescribing(SelfDescribingJson(schema, data), context=context, event_subject=subject)
    )


def _block_list(storefront: str, visitor: str, product: Product) -> tuple[list[str], str]:
    """The item ids the block would show on `product`'s page and the model version that ranked
    them, through the stand-in app proxy (which counts a list served); none when it fails."""
    query = urlencode({"visitor": visitor, "product_id": product.item_id, "limit": 4})
    try:
        with urllib.request.urlopen(
            f"{storefront}/apps/slipstream/recommendations?{query}", timeout=5
        ) as response:
            served = json.loads(response.read())
    except (OSError, ValueError):
        return [], ""
    items = [str(i["item_id"]) for i in served.get("items", []) if "item_id" in i]
    return items, str(served.get("model_version") or "")
