"""Per-shop and per-shopper event rate limits: fixed one-minute windows counted in Redis.

One pipelined round trip per request. Counting before deciding means a refused batch still counts,
so a client hammering past its limit stays limited until it slows down.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import redis

WINDOW_S = 60


@dataclass(frozen=True, slots=True)
class Limits:
    per_shop: int  # events per minute for the whole shop
    per_shopper: int  # events per minute for one shopper


def rate_check(
    *, r: redis.Redis, shop: str, per_shopper: Mapping[str, int], limits: Limits, now: float
) -> int | None:
    """Count a request's events; None when within the limits, else seconds until they reset."""
    minute = int(now // WINDOW_S)
    total = sum(per_shopper.values())
    pipe = r.pipeline(transaction=False)
    shop_key = f"ss:{shop}:rate:{minute}"
    pipe.incrby(shop_key, total)
    pipe.expire(shop_key, 2 * WINDOW_S)
    for shopper, count in per_shopper.items():
        pipe.incrby(f"{shop_key}:{shopper}", count)
        pipe.expire(f"{shop_key}:{shopper}", 2 * WINDOW_S)
    counts = pipe.execute()[::2]
    if counts[0] > limits.per_shop or any(c > limits.per_shopper for c in counts[1:]):
        return WINDOW_S - int(now % WINDOW_S)
    return None
