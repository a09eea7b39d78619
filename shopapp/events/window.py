"""Each shopper's sliding window of recent interactions: a Redis sorted set scored by event time.

The window is defined on event time, not arrival time: after any sequence of deliveries (out of
order, redelivered, duplicated) it holds exactly the interactions within `window_seconds` of the
shopper's newest one, at most `max_events` of them. Members are `item|interaction|event_id`, so
adding the same event twice is a no-op; the update is one Lua call, atomic and one round trip.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import redis

from shopapp.events.keys import IDLE_TTL_S, window_key
from shopapp.events.normalise import InteractionRecord

_UPDATE = """
for i = 4, #ARGV, 2 do redis.call('ZADD', KEYS[1], ARGV[i], ARGV[i + 1]) end
local newest = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')[2]
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. (tonumber(newest) - tonumber(ARGV[1])))
redis.call('ZREMRANGEBYRANK', KEYS[1], 0, -(tonumber(ARGV[2]) + 1))
redis.call('EXPIRE', KEYS[1], ARGV[3])
return redis.call('ZCARD', KEYS[1])
"""
# KEYS: the customer's window, the visitor's window. ARGV as _UPDATE's first three. The visitor's
# interactions join the customer's window (members are keyed by event id, so merging twice is the
# same as once), and the result is trimmed exactly as an update trims.
_MERGE = """
local members = redis.call('ZRANGE', KEYS[2], 0, -1, 'WITHSCORES')
if #members == 0 then return redis.call('ZCARD', KEYS[1]) end
for i = 1, #members, 2 do redis.call('ZADD', KEYS[1], members[i + 1], members[i]) end
local newest = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')[2]
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. (tonumber(newest) - tonumber(ARGV[1])))
redis.call('ZREMRANGEBYRANK', KEYS[1], 0, -(tonumber(ARGV[2]) + 1))
redis.call('EXPIRE', KEYS[1], ARGV[3])
return redis.call('ZCARD', KEYS[1])
"""


@dataclass(frozen=True, slots=True)
class WindowEntry:
    item_id: str
    interaction: str
    ts: float
    event_id: str


def window_update(
    *,
    r: redis.Redis,
    shop: str,
    user_id: str,
    records: Iterable[InteractionRecord],
    window_seconds: int,
    max_events: int,
) -> int:
    """Add a shopper's interactions to their window and trim it; returns the window's size."""
    argv: list[str | float | int] = [window_seconds, max_events, window_seconds + IDLE_TTL_S]
    for rec in records:
        argv += [rec.ts, f"{rec.item_id}|{rec.interaction}|{rec.event_id}"]
    if len(argv) == 3:
        return 0
    return int(r.eval(_UPDATE, 1, window_key(shop, user_id), *argv))


def window_merge(
    *,
    r: redis.Redis,
    shop: str,
    visitor_id: str,
    customer_id: str,
    window_seconds: int,
    max_events: int,
) -> int:
    """Identity stitching: a visitor who logs in brings what they just browsed anonymously into
    their customer window, so the first recommendations after login already reflect it."""
    return int(
        r.eval(
            _MERGE,
            2,
            window_key(shop, customer_id),
            window_key(shop, visitor_id),
            window_seconds,
            max_events,
            window_seconds + IDLE_TTL_S,
        )
    )


def window_read(*, r: redis.Redis, shop: str, user_id: str) -> list[WindowEntry]:
    """The window, oldest first."""
    return windows_read(r=r, shop=shop, user_ids=[user_id])[user_id]


def windows_read(
    *, r: redis.Redis, shop: str, user_ids: Sequence[str]
) -> dict[str, list[WindowEntry]]:
    """Several shoppers' windows, oldest first, in one round trip."""
    pipe = r.pipeline(transaction=False)
    for user_id in user_ids:
        pipe.zrange(window_key(shop, user_id), 0, -1, withscores=True)
    return {
        user_id: [_entry(member, score) for member, score in members]
        for user_id, members in zip(user_ids, pipe.execute(), strict=True)
    }


def _entry(member: str, score: float) -> WindowEntry:
    item_id, interaction, event_id = member.split("|", 2)
    return WindowEntry(item_id=item_id, interaction=interaction, ts=float(score), event_id=event_id)
