"""Trending counters: weighted interactions per product in hourly buckets, counted once per event.

Counters are not idempotent the way windows and history are, so each event is first marked seen
(`ss:{shop}:seen:{event_id}`, SET NX with a TTL) and counted only if the mark is new, both in one
Lua call: a redelivered batch adds nothing, and a crash cannot separate the mark from the count.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import cast

import redis

from shopapp.events.normalise import InteractionRecord

WEIGHTS = {"view": 1.0, "cart": 3.0, "purchase": 5.0}
BUCKET_S = 3600
BUCKETS_KEPT = 8 * 24  # a week of hours, and a day of slack
# How long an event's "counted" mark lives. History is deduplicated by the database (its unique
# (shop, event_id)) and windows by their members, so the mark only guards these counters, and a
# counter only matters while trending reads its hour: the last 24 h (TrendingConfig.horizon_hours).
# An event's time is at most a day ahead of its arrival (normalise.MAX_CLOCK_SKEW_S), so any copy
# arriving after 24 h of skew + the 24-h horizon + its hour lands in a bucket nothing reads any
# more. That is longer than our own redeliveries (minutes) and than any tracker's retries within
# a visit; a tracker's queue kept across days is harmless by the same argument. A week would only
# keep every fake event's key three times as long.
SEEN_TTL_S = (24 + 24 + 1) * 3600

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


def bucket_key(shop: str, ts: float) -> str:
    return f"ss:{shop}:trend:{int(ts // BUCKET_S)}"


def trending_count(*, r: redis.Redis, shop: str, records: Sequence[InteractionRecord]) -> int:
    """Add the records' weights to their hour's bucket, once per event id; returns how many."""
    keys: list[str] = []
    argv: list[str | float | int] = [SEEN_TTL_S, BUCKET_S * BUCKETS_KEPT]
    for rec in records:
        if rec.interaction in WEIGHTS:
            keys += [f"ss:{shop}:seen:{rec.event_id}", bucket_key(shop, rec.ts)]
            argv += [rec.item_id, WEIGHTS[rec.interaction]]
    if not keys:
        return 0
    return int(r.eval(_COUNT, len(keys), *keys, *argv))


def trending_totals(*, r: redis.Redis, shop: str, since: float, until: float) -> dict[str, float]:
    """Summed weights per product over the buckets from `since` to `until`."""
    totals: dict[str, float] = {}
    for bucket in range(int(since // BUCKET_S), int(until // BUCKET_S) + 1):
        counts = cast(dict[str, str], r.hgetall(f"ss:{shop}:trend:{bucket}"))
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
        pipe.hgetall(f"ss:{shop}:trend:{hour}")
    return {
        hour: {item: float(v) for item, v in counts.items()}
        for hour, counts in zip(hours, pipe.execute(), strict=True)
        if counts
    }
