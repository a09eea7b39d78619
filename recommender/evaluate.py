"""Next-item evaluation on a holdout: for each shopper, their history before their last holdout
interaction, and that interaction's item as the target. Full-catalogue ranking (no sampling).

HR@k: the share of cases whose target is in the top k. NDCG@k: 1/log2(rank + 1) of the target's
rank (1-based) when in the top k, else 0, averaged. A perfect ranking scores 1 on both.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from recommender.predictor import Recommender
from recommender.types import Interaction


@dataclass(frozen=True, slots=True)
class Case:
    history: list[tuple[str, float]]
    target: str


def holdout_cases(
    interactions: Iterable[Interaction], *, holdout_from: float, kinds: frozenset[str]
) -> list[Case]:
    """One case per shopper with an interaction of `kinds` at or after `holdout_from`: the last
    such interaction is the target, everything of theirs before it the history."""
    by_user: dict[str, list[Interaction]] = defaultdict(list)
    for it in interactions:
        if it.interaction in kinds:
            by_user[it.user_id].append(it)
    cases = []
    for events in by_user.values():
        events.sort(key=lambda e: e.ts)
        last = events[-1]
        if last.ts >= holdout_from and len(events) > 1:
            cases.append(
                Case(history=[(e.item_id, e.ts) for e in events[:-1]], target=last.item_id)
            )
    return cases


def hit_rate_and_ndcg(model: Recommender, cases: Sequence[Case], *, k: int) -> tuple[float, float]:
    if not cases:
        return 0.0, 0.0
    hits, gain = 0, 0.0
    for case in cases:
        ranked = [s.item_id for s in model.recommend(history=case.history, k=k)]
        if case.target in ranked:
            hits += 1
            gain += 1.0 / math.log2(ranked.index(case.target) + 2)
    return hits / len(cases), gain / len(cases)
