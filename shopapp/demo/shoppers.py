"""Simulated shoppers for the demo, speaking to the collector through the real Snowplow tracker.

Each shopper has a favourite category, browses it with the odd detour, and sometimes adds to cart;
a product view every one to three seconds across the crowd keeps the dashboard and the block alive.
"""

from __future__ import annotations

import logging
import random
import threading
import uuid
from collections.abc import Sequence

from snowplow_tracker import EmitterConfiguration, SelfDescribingJson, Snowplow, Subject
from snowplow_tracker.events import PageView, SelfDescribing

from recommender.synthetic import Product

# The tracker's modules set their own loggers to INFO at import and log every request.
for _name in ("snowplow_tracker.emitters", "snowplow_tracker.snowplow"):
    logging.getLogger(_name).setLevel(logging.WARNING)

ACTION = "iglu:com.snowplowanalytics.snowplow.ecommerce/snowplow_ecommerce_action/jsonschema/1-0-2"
PRODUCT = "iglu:com.snowplowanalytics.snowplow.ecommerce/product/jsonschema/1-0-0"


def shoppers_run(
    *,
    endpoint: str,
    shop: str,
    products: Sequence[Product],
    stop: threading.Event,
    n_shoppers: int = 12,
    seed: int = 11,
) -> None:
    """Drive shoppers until `stop` is set."""
    rng = random.Random(seed)
    tracker = Snowplow.create_tracker(
        namespace="demo-shoppers",
        endpoint=endpoint,
        app_id=shop,
        emitter_config=EmitterConfiguration(batch_size=1),
    )
    categories = sorted({p.category for p in products})
    # Visitor ids are UUIDs, as the tracker's are (the collector refuses anything else).
    crowd = [
        (str(uuid.uuid5(uuid.NAMESPACE_URL, f"demo-shopper-{n}")), rng.choice(categories))
        for n in range(n_shoppers)
    ]
    while not stop.wait(rng.uniform(1.0, 3.0)):
        visitor, favourite = rng.choice(crowd)
        pool = [p for p in products if p.category == favourite and rng.random() > 0.2] or products
        product = rng.choice(list(pool))
        subject = Subject().set_platform("web").set_domain_user_id(visitor)
        tracker.track(
            PageView(page_url=f"https://{shop}/products/{product.handle}", event_subject=subject)
        )
        kinds = ["product_view"] + (["add_to_cart"] if rng.random() < 0.15 else [])
        for kind in kinds:
            tracker.track(
                SelfDescribing(
                    SelfDescribingJson(ACTION, {"type": kind}),
                    context=[
                        SelfDescribingJson(
                            PRODUCT,
                            {
                                "id": product.item_id,
                                "category": product.category,
                                "price": product.price,
                                "currency": "USD",
                            },
                        )
                    ],
                    event_subject=subject,
                )
            )
    tracker.flush()
