from __future__ import annotations

import random

from shopapp.events.normalise import InteractionRecord
from shopapp.events.window import window_read, window_update
from shopapp.redis import get_redis

SHOP = "w.myshopify.com"


def _rec(n: int, ts: float) -> InteractionRecord:
    return InteractionRecord(
        shop=SHOP, user_id="u", item_id=f"i{n}", interaction="view", ts=ts, event_id=f"e{n}"
    )


def test_window_keeps_what_is_within_its_length_of_the_newest_event() -> None:
    r = get_redis()
    records = [_rec(n, 1000.0 + 60 * n) for n in range(10)]  # one a minute
    shuffled = records * 2  # delivered twice, out of order
    random.Random(3).shuffle(shuffled)
    for rec in shuffled:
        window_update(r=r, shop=SHOP, user_id="u", records=[rec], window_seconds=300, max_events=50)
    window = window_read(r=r, shop=SHOP, user_id="u")
    # newest at t=1540: keeps t >= 1240, i.e. events 4..9
    assert [e.item_id for e in window] == [f"i{n}" for n in range(4, 10)]
    assert [e.ts for e in window] == [1000.0 + 60 * n for n in range(4, 10)]


def test_window_is_bounded_in_count() -> None:
    r = get_redis()
    window_update(
        r=r,
        shop=SHOP,
        user_id="c",
        records=[_rec(n, 1000.0 + n) for n in range(8)],
        window_seconds=3600,
        max_events=3,
    )
    assert [e.item_id for e in window_read(r=r, shop=SHOP, user_id="c")] == ["i5", "i6", "i7"]
