from __future__ import annotations

from shopapp.recs.store import refresh_claim, refresh_release
from shopapp.redis import get_redis

SHOP = "coalesce.myshopify.com"


def test_a_burst_for_one_shopper_queues_one_refresh_until_it_starts() -> None:
    r = get_redis()
    assert refresh_claim(r=r, shop=SHOP, users=["a", "b"]) == ["a", "b"]
    assert refresh_claim(r=r, shop=SHOP, users=["a", "b", "c"]) == ["c"]  # a, b already queued
    refresh_release(r=r, shop=SHOP, user_ids=["a"])  # a's refresh started: new events need another
    assert refresh_claim(r=r, shop=SHOP, users=["a", "b"]) == ["a"]
