"""Co-visitation: "shoppers who looked at this also looked at", item to item.

Two items are co-visited when one shopper interacts with both within `window_s` of each other.
Each pair counts once per shopper-session pair of events, weighted by the later interaction's
kind (a cart after a view says more than two views), and normalised by the neighbour's overall
frequency so best-sellers do not become everyone's neighbour.
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

from recommender.popularity import Popularity, PopularityConfig
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


_FORMAT_VERSION = 1


@dataclass(frozen=True)
class CoVisitation:
    """A servable "also viewed" model: items co-visited with the shopper's history (the most
    recent first), topped up by popularity so the list is always full."""

    kind: ClassVar[str] = "covisit"

    config: CoVisitConfig
    table: Mapping[str, Sequence[Scored]] = field(repr=False)
    popular: Popularity = field(repr=False)

    @classmethod
    def fit(cls, interactions: Iterable[Interaction], config: CoVisitConfig) -> CoVisitation:
        seen = list(interactions)
        return cls(
            config=config,
            table=covisit_fit(seen, config),
            popular=Popularity.fit(seen, PopularityConfig(weights=dict(config.weights))),
        )

    def recommend(
        self, *, history: Sequence[tuple[str, float]], k: int, exclude: Collection[str] = ()
    ) -> list[Scored]:
        if k < 0:
            raise ValueError(f"k must be >= 0, got {k}")
        excluded = set(exclude)
        recent = [item for item, _ in sorted(history, key=lambda h: h[1])][-self.config.lookback :]
        picked = covisit_neighbours(self.table, recent, k=k, exclude=excluded)
        # Every co-visitation score is > 0: the top-up's 0 ranks below them.
        return self.popular.top_up(picked, k=k, exclude=excluded | set(recent))

    def score(self, *, history: Sequence[tuple[str, float]], items: Sequence[str]) -> list[float]:
        """Each item's co-visitation score with the recent history; popularity breaks the rest
        (scaled below any co-visitation score)."""
        recent = [item for item, _ in sorted(history, key=lambda h: h[1])][-self.config.lookback :]
        merged: dict[str, float] = {}
        for rank, item in enumerate(reversed(recent)):
            for n in self.table.get(item, ()):
                merged[n.item_id] = merged.get(n.item_id, 0.0) + n.score / (rank + 1)
        return self.popular.break_ties(merged, items)

    def save(self, path: Path) -> None:
        path.mkdir(parents=True, exist_ok=True)
        config = {
            "kind": self.kind,
            "format_version": _FORMAT_VERSION,
            "window_s": self.config.window_s,
            "lookback": self.config.lookback,
            "top": self.config.top,
            "weights": self.config.weights,
        }
        (path / "config.json").write_text(json.dumps(config), encoding="utf-8")
        table = {item: [[n.item_id, n.score] for n in ns] for item, ns in self.table.items()}
        (path / "neighbours.json").write_text(json.dumps(table, allow_nan=False), encoding="utf-8")
        self.popular.save(path / "popularity")

    @classmethod
    def load(cls, path: Path) -> CoVisitation:
        config = json.loads((path / "config.json").read_text(encoding="utf-8"))
        if config.get("kind") != cls.kind or config.get("format_version") != _FORMAT_VERSION:
            raise ValueError(f"{path} does not hold a covisit model of format {_FORMAT_VERSION}")
        raw = json.loads((path / "neighbours.json").read_text(encoding="utf-8"))
        return cls(
            config=CoVisitConfig(
                window_s=float(config["window_s"]),
                lookback=int(config["lookback"]),
                top=int(config["top"]),
                weights={str(k): float(v) for k, v in config["weights"].items()},
            ),
            table={
                str(item): [Scored(item_id=str(i), score=float(s)) for i, s in ns]
                for item, ns in raw.items()
            },
            popular=Popularity.load(path / "popularity"),
        )
