"""STAN (Garg et al., SIGIR 2019): sequence- and time-aware neighbourhood, for short sessions.

A shopper's current session (their latest actions, no gap longer than ``session_gap_s``) is
compared with the stored sessions of other shoppers that share an item with it:

- the current session's items weigh by recency, ``exp(-steps back / position_decay)``: the last
  product looked at says the most;
- a stored session's similarity is the weighted overlap over ``sqrt(len(current) * len(it))``,
  faded by how long before the current session it ended, ``exp(-days / time_decay_days)``
  (what shoppers did yesterday says more than what they did last month);
- the ``neighbours`` most similar sessions vote for their items, each vote faded by its distance
  in that session from the shared item nearest its end, ``exp(-distance / neighbour_decay)``,
  items after the shared one counting ``after_weight`` times those before it;
- each vote is also faded by how far back in the current session the latest item it shares with
  that stored session is, ``exp(-steps back / match_decay)``, and raised for rare items by
  ``1 + idf_weight * log(stored sessions / stored sessions holding it)`` (both from VSTAN,
  Ludewig et al. 2021: a neighbour found through the product just viewed says more than one
  found through the first, and a bestseller in every neighbour says little about this shopper).

The model is the stored sessions themselves: fitting indexes the newest ``max_sessions``, so its
size grows with the shop's data up to that bound. Popularity fills a list it cannot fill.
"""

from __future__ import annotations

import heapq
import json
import math
from collections import defaultdict
from collections.abc import Collection, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import ClassVar

from recommender.data import sequences
from recommender.popularity import Popularity, PopularityConfig
from recommender.types import Interaction, Scored

_FORMAT_VERSION = 1
_DAY_S = 86_400.0


@dataclass(frozen=True)
class STANConfig:
    neighbours: int = 500  # stored sessions that vote
    sample: int = 1000  # the most recent sessions sharing an item that are compared at all
    position_decay: float = 1.0  # steps back in the current session
    time_decay_days: float = 30.0  # inf: no fading (data without real time)
    neighbour_decay: float = 2.0  # steps away from the shared item in a stored session
    after_weight: float = 1.5  # an item after the shared one against one before it
    match_decay: float = 1.0  # steps back in the current session of a neighbour's match; inf: off
    idf_weight: float = 2.0  # how much a rare item's vote is raised; 0: not at all
    session_gap_s: float = 1800.0  # a longer pause starts a new session; inf for data without time
    max_len: int = 50  # the latest items of a session (the current one, and each stored one)
    max_sessions: int = 50_000  # the newest stored sessions (a bound on a loaded model)
    # The kinds a session is made of (their weights count only in the popularity fill).
    weights: dict[str, float] = field(
        default_factory=lambda: {"view": 1.0, "cart": 1.0, "purchase": 1.0}
    )


def _sessions(
    interactions: Iterable[Interaction], config: STANConfig
) -> list[tuple[float, list[str]]]:
    """Every shopper's sessions (end time, items in order), oldest first."""
    out = []
    for events in sequences(i for i in interactions if i.interaction in config.weights).values():
        start = 0
        for n in range(1, len(events) + 1):
            if n == len(events) or events[n].ts - events[n - 1].ts > config.session_gap_s:
                # Its latest max_len: a crawler's session of the whole catalogue would otherwise
                # be every shopper's neighbour, and cost each of them a walk through it.
                out.append(
                    (events[n - 1].ts, [e.item_id for e in events[start:n]][-config.max_len :])
                )
                start = n
    out.sort(key=lambda s: s[0])
    return out


def current_session(
    history: Sequence[tuple[str, float]], config: STANConfig
) -> list[tuple[str, float]]:
    """The latest session of a history: its actions after the last pause past the gap."""
    ordered = sorted(history, key=lambda h: h[1])
    start = len(ordered) - 1
    while start > 0 and ordered[start][1] - ordered[start - 1][1] <= config.session_gap_s:
        start -= 1
    return ordered[max(start, 0) :][-config.max_len :]


@dataclass(frozen=True)
class STAN:
    kind: ClassVar[str] = "stan"

    config: STANConfig
    ends: list[float] = field(repr=False)  # each stored session's end time, oldest first
    items: list[list[str]] = field(repr=False)  # each stored session's items in order
    popular: Popularity = field(repr=False)
    # item → the newest `sample` stored sessions holding it, newest first (derived from `items`)
    index: dict[str, list[int]] = field(init=False, repr=False, compare=False)
    # item → its vote's factor, 1 + idf_weight * log(sessions / sessions holding it) (derived)
    rarity: dict[str, float] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        index: dict[str, list[int]] = defaultdict(list)
        holding: dict[str, int] = defaultdict(int)
        for n in range(len(self.items) - 1, -1, -1):
            for item in dict.fromkeys(self.items[n]):
                holding[item] += 1
                if len(index[item]) < self.config.sample:
                    index[item].append(n)
        object.__setattr__(self, "index", dict(index))
        total, weight = len(self.items), self.config.idf_weight
        rarity = {item: 1.0 + weight * math.log(total / n) for item, n in holding.items()}
        object.__setattr__(self, "rarity", rarity)

    @classmethod
    def fit(cls, interactions: Iterable[Interaction], config: STANConfig) -> STAN:
        seen = list(interactions)
        kept = [s for s in _sessions(seen, config) if len(s[1]) > 1][-config.max_sessions :]
        return cls(
            config=config,
            ends=[end for end, _ in kept],
            items=[items for _, items in kept],
            popular=Popularity.fit(seen, PopularityConfig(weights=dict(config.weights))),
        )

    def _scores(self, history: Sequence[tuple[str, float]]) -> dict[str, float]:
        c = self.config
        current = current_session(history, c)
        if not current:
            return {}
        now = current[-1][1]
        weight: dict[str, float] = {}
        match: dict[str, float] = {}  # item → the fade of a neighbour whose latest match it is
        for steps_back, (item, _) in enumerate(reversed(current)):  # the latest counts
            weight.setdefault(item, math.exp(-steps_back / c.position_decay))
            match.setdefault(item, math.exp(-steps_back / c.match_decay))
        # The most recent sessions sharing any item with the current one.
        candidates = heapq.nlargest(
            c.sample, {n for item in weight for n in self.index.get(item, ())}
        )
        similar = []
        size = math.sqrt(len(current))
        for n in candidates:
            stored = self.items[n]
            overlap = sum(weight.get(item, 0.0) for item in set(stored))
            days = max(0.0, now - self.ends[n]) / _DAY_S
            fade = math.exp(-days / c.time_decay_days)  # 1 when time_decay_days is inf
            similar.append((overlap / (size * math.sqrt(len(stored))) * fade, n))
        scores: dict[str, float] = defaultdict(float)
        for similarity, n in heapq.nlargest(c.neighbours, similar):
            stored = self.items[n]
            # The shared item nearest the stored session's end anchors the distances.
            anchor = max(p for p, item in enumerate(stored) if item in weight)
            # Faded by the latest of the current session's items that this neighbour shares.
            strength = similarity * max(match[item] for item in stored if item in match)
            for p, item in enumerate(stored):
                if p == anchor:
                    continue
                distance = abs(p - anchor)
                vote = math.exp(-(distance - 1) / c.neighbour_decay) * self.rarity[item]
                scores[item] += strength * vote * (c.after_weight if p > anchor else 1.0)
        return scores

    def recommend(
        self, *, history: Sequence[tuple[str, float]], k: int, exclude: Collection[str] = ()
    ) -> list[Scored]:
        if k < 0:
            raise ValueError(f"k must be >= 0, got {k}")
        unwanted = {*exclude, *(item for item, _ in history)}
        scores = self._scores(history)
        best = heapq.nsmallest(
            k, ((-s, item) for item, s in scores.items() if item not in unwanted and s > 0)
        )
        picked = [Scored(item_id=item, score=-s) for s, item in best]
        # Every neighbourhood score kept is > 0: the top-up's 0 ranks below them.
        return self.popular.top_up(picked, k=k, exclude=unwanted)

    def score(self, *, history: Sequence[tuple[str, float]], items: Sequence[str]) -> list[float]:
        """Each item's neighbourhood score; popularity breaks the rest (scaled below any)."""
        return self.popular.break_ties(self._scores(history), items)

    def save(self, path: Path) -> None:
        path.mkdir(parents=True, exist_ok=True)
        config = {"kind": self.kind, "format_version": _FORMAT_VERSION, **asdict(self.config)}
        (path / "config.json").write_text(json.dumps(config), encoding="utf-8")
        sessions = {"ends": self.ends, "items": self.items}
        (path / "sessions.json").write_text(json.dumps(sessions), encoding="utf-8")
        self.popular.save(path / "popularity")

    @classmethod
    def load(cls, path: Path) -> STAN:
        raw = json.loads((path / "config.json").read_text(encoding="utf-8"))
        if raw.pop("kind", None) != cls.kind or raw.pop("format_version", None) != _FORMAT_VERSION:
            raise ValueError(f"{path} does not hold a stan model of format {_FORMAT_VERSION}")
        sessions = json.loads((path / "sessions.json").read_text(encoding="utf-8"))
        return cls(
            config=STANConfig(**raw),
            ends=[float(t) for t in sessions["ends"]],
            items=[[str(i) for i in s] for s in sessions["items"]],
            popular=Popularity.load(path / "popularity"),
        )
