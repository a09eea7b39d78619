"""Trending counters: weighted interactions per product in hourly buckets, counted once per event.

Counters are not idempotent the way windows and history are, so each event is first marked seen
(`seen_key`, SET NX with a TTL) and counted only if the mark is new, both in one Lua call: a
redelivered batch adds nothing, and a crash cannot separate the mark from the count.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import cast

import redis

from shopapp.events.keys import BUCKET_S, SEEN_TTL_S, TREND_TTL_S, seen_key, trend_key
from shopapp.events.normalise import InteractionRecord

WEIGHTS = {"view": 1.0, "cart": 3.0, "purchase": 5.0}

# KEYS: seen key, bucket key, per event. ARGV: seen TTL, bucket TTL, then item, weight per event.
_COUNT = """
local counted = 0
for i = 1, #KEYS, 2 do
  local n = (i + 1) / 2
  if redis.call('SET', KEYS[i], 1, 'NX', 'EX', ARGV[1]) then
    redis.call('HINCRBYFLOAT', KEYS[i + 1], ARGV[1 + 2 * n], ARGV[2 + 2 * n])
    redis.call('EXPIRE', KEYS[i + 1], ARGV[2])
    counted = counted + 1
  end
end
return counted
"""


def trending_count(*, r: redis.Redis, shop: str, records: Sequence[InteractionRecord]) -> int:
    """Add the records' weights to their hour's bucket, once per event id; returns how many."""
    keys: list[str] = []
    argv: list[str | float | int] = [SEEN_TTL_S, TREND_TTL_S]
    for rec in records:
        if rec.interaction in WEIGHTS:
            keys += [seen_key(shop, rec.event_id), trend_key(shop, int(rec.ts // BUCKET_S))]
            argv += [rec.item_id, WEIGHTS[rec.interaction]]
    if not keys:
        return 0
    return int(r.eval(_COUNT, len(keys), *keys, *argv))


def trending_totals(*, r: redis.Redis, shop: str, since: float, until: float) -> dict[str, float]:
    """Summed weights per product over the buckets from `since` to `until`."""
    totals: dict[str, float] = {}
    for bucket in range(int(since // BUCKET_S), int(until // BUCKET_S) + 1):
        counts = cast(dict[str, str], r.hgetall(trend_key(shop, bucket)))
        for item, value in counts.items():
            totals[item] = totals.get(item, 0.0) + float(value)
    return totals


def trending_buckets(
    *, r: redis.Redis, shop: str, hours: Iterable[int]
) -> dict[int, dict[str, float]]:
    """The hourly buckets (hour number -> product -> weight) of the given hours, in one trip."""
    hours = list(hours)
    pipe = r.pipeline(transaction=False)
    for hour in hours:
        pipe.hgetall(trend_key(shop, hour))
    return {
        hour: {item: float(v) for item, v in counts.items()}
        for hour, counts in zip(hours, pipe.execute(), strict=True)
        if counts
    }
