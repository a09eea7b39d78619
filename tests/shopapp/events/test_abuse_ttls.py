"""What an event leaves in Redis lives no longer than it must (docs/collector-protocol.md)."""

from __future__ import annotations

import uuid

from recommender.trending import TrendingConfig
from shopapp.events.keys import BUCKET_S, SEEN_TTL_S
from shopapp.events.normalise import MAX_CLOCK_SKEW_S, InteractionRecord
from shopapp.events.trending import trending_count, trending_totals
from shopapp.recs.keys import RECS_TTL_S, VISITOR_RECS_TTL_S, recs_key
from shopapp.recs.store import StoredRecs, recs_write
from shopapp.redis import get_redis


def test_the_counted_mark_outlives_every_bucket_trending_reads_and_no_more() -> None:
    # A copy arriving after the mark is gone lands in an hour trending no longer reads: the
    # event's time may be a day ahead of its arrival, then the 24-h horizon, then its own hour.
    horizon = TrendingConfig().horizon_hours * BUCKET_S
    assert SEEN_TTL_S == MAX_CLOCK_SKEW_S + horizon + BUCKET_S == 49 * 3600


def test_an_event_is_counted_once_and_its_mark_expires(shop: str) -> None:
    event_id = str(uuid.uuid4())
    record = InteractionRecord(
        shop=shop,
        user_id=f"v:{uuid.uuid4()}",
        item_id="7",
        interaction="view",
        ts=3600.0,
        event_id=event_id,
    )
    r = get_redis()
    assert trending_count(r=r, shop=shop, records=[record]) == 1
    assert trending_count(r=r, shop=shop, records=[record]) == 0
    assert trending_totals(r=r, shop=shop, since=3600, until=3600) == {"7": 1.0}
    assert 49 * 3600 - 5 <= r.ttl(f"ss:{shop}:seen:{event_id}") <= 49 * 3600


def _stored() -> StoredRecs:
    return StoredRecs(items=["1"], scores=[1.0], model_version="1", source="popular", computed_at=0)


def test_a_visitors_list_lives_a_day_and_a_customers_a_week(shop: str) -> None:
    r = get_redis()
    visitor, customer = f"v:{uuid.uuid4()}", "c:4242"
    recs_write(r=r, shop=shop, user_id=visitor, recs=_stored())
    recs_write(r=r, shop=shop, user_id=customer, recs=_stored())
    assert VISITOR_RECS_TTL_S == 24 * 3600
    assert VISITOR_RECS_TTL_S - 5 <= r.ttl(recs_key(shop, visitor)) <= VISITOR_RECS_TTL_S
    assert RECS_TTL_S - 5 <= r.ttl(recs_key(shop, customer)) <= RECS_TTL_S
