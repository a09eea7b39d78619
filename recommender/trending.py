"""Trending now: what shoppers are turning to in the last hours, with surges pushed up.

Input is hourly buckets of weighted interaction counts per item (the shape the ingest workers keep
in Redis). An item's score is its exponentially decayed count (half-life in hours) multiplied by
a surge factor: how far its last hour stands above its own hourly average over the rest of the
horizon. A product suddenly everyone looks at outranks one that is merely always popular.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from recommender.types import Scored


@dataclass(frozen=True)
class TrendingConfig:
    horizon_hours: int = 24
    half_life_hours: float = 6.0
    # A surge counts once the last hour is this many times the item's usual hour.
    surge_threshold: float = 2.0
    # Smoothing for items with little history, so one view of a new item is not a "surge".
    prior_per_hour: float = 1.0

    def __post_init__(self) -> None:
        if self.horizon_hours < 2:
            raise ValueError("horizon_hours must be at least 2 (a last hour and a baseline)")
        if self.half_life_hours <= 0:
            raise ValueError("half_life_hours must be > 0")


def surge_ratio(*, last_hour: float, earlier: float, earlier_hours: int, prior: float) -> float:
    """The last hour's count over the item's average hour before it (smoothed by `prior`)."""
    return (last_hour + prior) / (earlier / max(1, earlier_hours) + prior)


def trending_rank(
    buckets: Mapping[int, Mapping[str, float]], *, now_hour: int, k: int, config: TrendingConfig
) -> list[Scored]:
    """Top-`k` items of the hourly `buckets` (hour number -> item -> weight) up to `now_hour`."""
    first = now_hour - config.horizon_hours + 1
    decayed: dict[str, float] = {}
    last: dict[str, float] = {}
    earlier: dict[str, float] = {}
    for hour, counts in buckets.items():
        if not first <= hour <= now_hour:
            continue
        weight = 0.5 ** ((now_hour - hour) / config.half_life_hours)
        for item, count in counts.items():
            decayed[item] = decayed.get(item, 0.0) + weight * count
            if hour == now_hour:
                last[item] = last.get(item, 0.0) + count
            else:
                earlier[item] = earlier.get(item, 0.0) + count
    scored = []
    for item, base in decayed.items():
        ratio = surge_ratio(
            last_hour=last.get(item, 0.0),
            earlier=earlier.get(item, 0.0),
            earlier_hours=config.horizon_hours - 1,
            prior=config.prior_per_hour,
        )
        boost = (
            1.0 + math.log(ratio / config.surge_threshold)
            if ratio > config.surge_threshold
            else 1.0
        )
        scored.append(Scored(item_id=item, score=base * boost))
    scored.sort(key=lambda s: (-s.score, s.item_id))
    return scored[:k]
