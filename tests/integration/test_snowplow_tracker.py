"""The real Snowplow Python tracker against the live collector: both of its methods (POST tp2
batches and GET /i), page views and self-describing e-commerce events with product entities."""

from __future__ import annotations

from typing import Any, Literal, cast

import pytest
from snowplow_tracker import EmitterConfiguration, SelfDescribingJson, Snowplow, Subject
from snowplow_tracker.events import PageView, SelfDescribing

from shopapp.demo.tp2 import ACTION, PRODUCT
from shopapp.events.normalise import tp2_normalise
from shopapp.events.stream import STREAM, batch_decode
from shopapp.redis import get_redis
from tests.tp2 import duid_for

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def _track(tracker: Any, shop: str, visitor: str) -> None:
    subject = Subject().set_platform("web").set_domain_user_id(visitor)
    tracker.track(PageView(page_url=f"https://{shop}/products/shoe", event_subject=subject))
    for action, item in (("product_view", "41"), ("add_to_cart", "gid://shopify/Product/42")):
        tracker.track(
            SelfDescribing(
                SelfDescribingJson(ACTION, {"type": action}),
                context=[
                    SelfDescribingJson(
                        PRODUCT, {"id": item, "category": "shoes", "price": 9.5, "currency": "EUR"}
                    )
                ],
                event_subject=subject,
            )
        )
    tracker.flush()


def _logged() -> list[tuple[int, str, str, str]]:
    """(batch size, user, item, interaction) of everything in the event log, normalised."""
    rows = []
    for _, fields in cast(list[tuple[str, dict[str, str]]], get_redis().xrange(STREAM)):
        batch = batch_decode(fields)
        for raw in batch.events:
            for rec in tp2_normalise(shop=batch.shop, raw=raw, received_at=batch.received_at):
                rows.append((len(batch.events), rec.user_id, rec.item_id, rec.interaction))
    return rows


@pytest.mark.parametrize(("method", "batch_size"), [("post", 3), ("get", 1)])
def test_the_real_python_tracker_is_understood_exactly(
    live_server: Any,
    shop: str,
    tracking_key: str,
    method: Literal["get", "post"],
    batch_size: int,
) -> None:
    get_redis().delete(STREAM)
    tracker = Snowplow.create_tracker(
        namespace=f"t-{method}",
        endpoint=f"{live_server.url}/t/{tracking_key}",
        app_id=shop,
        method=method,
        emitter_config=EmitterConfiguration(batch_size=batch_size),
    )
    visitor = duid_for(f"visitor-{method}")
    _track(tracker, shop, visitor=visitor)
    Snowplow.remove_tracker(tracker)
    user = f"v:{visitor}"
    assert _logged() == [(batch_size, user, "41", "view"), (batch_size, user, "42", "cart")]
    get_redis().delete(STREAM)
