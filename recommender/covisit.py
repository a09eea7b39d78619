"""Co-visitation: "shoppers who looked at this also looked at", item to item.

Two items are co-visited when one shopper interacts with both within `window_s` of each other.
Each pair counts once per shopper-session pair of events, weighted by the later interaction's
kind (a cart after a view says more than two views), and normalised by the neighbour's overall
frequency so best-sellers do not become everyone's neighbour.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from recommender.types import Interaction, Scored


def _weights() -> dict[str, float]:
    return {"view": 1.0, "cart": 3.0, "purchase": 5.0}


@dataclass(frozen=True)
class CoVisitConfig:
    window_s: float = 3600.0
    lookback: int = 10  # pair an interaction with at most this many before it
    top: int = 20  # neighbours kept per item
    weights: dict[str, float] = field(default_factory=_weights)


def covisit_fit(
    interactions: Iterable[Interaction], config: CoVisitConfig
) -> dict[str, list[Scored]]:
    """Each item's top neighbours, best first."""
    by_user: dict[str, list[Interaction]] = defaultdict(list)
    for it in interactions:
        if it.interaction in config.weights:
            by_user[it.user_id].append(it)
    pair: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    frequency: dict[str, float] = defaultdict(float)
    for events in by_user.values():
        events.sort(key=lambda e: e.ts)
        for i, later in enumerate(events):
            frequency[later.item_id] += 1.0
            weight = config.weights[later.interaction]
            for earlier in events[max(0, i - config.lookback) : i]:
                if earlier.item_id == later.item_id or later.ts - earlier.ts > config.window_s:
                    continue
                pair[earlier.item_id][later.item_id] += weight
                pair[later.item_id][earlier.item_id] += weight
    return {item: _top(neighbours, frequency, config.top) for item, neighbours in pair.items()}


def _top(neighbours: Mapping[str, float], frequency: Mapping[str, float], k: int) -> list[Scored]:
    scored = [
        Scored(item_id=other, score=count / math.sqrt(frequency[other]))
        for other, count in neighbours.items()
    ]
    scored.sort(key=lambda s: (-s.score, s.item_id))
    return scored[:k]


def covisit_neighbours(
    table: Mapping[str, Sequence[Scored]], items: Sequence[str], *, k: int, exclude: set[str]
) -> list[Scored]:
    """Neighbours of the given items (most recent first: its neighbours rank first), merged."""
    merged: dict[str, float] = {}
    for rank, item in enumerate(reversed(items)):
        for n in table.get(item, ()):
            if n.item_id not in exclude and n.item_id not in items:
                merged[n.item_id] = merged.get(n.item_id, 0.0) + n.score / (rank + 1)
    out = [Scored(item_id=i, score=s) for i, s in merged.items()]
    out.sort(key=lambda s: (-s.score, s.item_id))
    return out[:k]
