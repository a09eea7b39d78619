"""Next-item evaluation: each case is a shopper's history and the item they turned to next.

HR@k: the share of cases whose target is in the top k. NDCG@k: 1/log2(rank + 1) of the target's
rank (1-based) when in the top k, else 0, averaged. MRR@k: 1/rank in the top k. A perfect
ranking scores 1 on all three.
"""

from __future__ import annotations

import math
import random
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from recommender.predictor import Recommender
from recommender.types import Interaction

# A case: the shopper's history (item, unix seconds) before the target, and the target item.
Case = tuple[list[tuple[str, float]], str]


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
            cases.append(([(e.item_id, e.ts) for e in events[:-1]], last.item_id))
    return cases


@dataclass(frozen=True, slots=True)
class Metrics:
    hr: float  # HR@k, full ranking (the user's history excluded from the candidates)
    ndcg: float
    mrr: float  # MRR@k: 1/rank when the target is in the top k, else 0
    sampled_hr: float | None  # HR@k against `negatives` sampled items (published tables only)
    sampled_ndcg: float | None
    cases: int


def rank_metrics(ranks: Sequence[int | None], *, k: int) -> tuple[float, float, float]:
    """HR@k, NDCG@k and MRR@k from 1-based ranks (None: not ranked)."""
    if not ranks:
        return 0.0, 0.0, 0.0
    hits = [r for r in ranks if r is not None and r <= k]
    return (
        len(hits) / len(ranks),
        sum(1.0 / math.log2(r + 1) for r in hits) / len(ranks),
        sum(1.0 / r for r in hits) / len(ranks),
    )


def evaluate(
    model: Recommender,
    cases: Sequence[Case],
    *,
    k: int = 10,
    negatives: int = 0,
    catalogue: Sequence[str] = (),
    seed: int = 0,
    exclude_history: bool = True,
) -> Metrics:
    """Full-ranking metrics over `cases`; with `negatives`, also the sampled protocol (the target
    ranked among that many items the user never touched, drawn uniformly from `catalogue`;
    a tie with the target counts against it). Sampled ranking needs `model.score`.
    `exclude_history=False` lets a shopper's target be an item they had seen before (shoppers
    return to products; the retraining gate scores that)."""
    rng = random.Random(seed)
    full: list[int | None] = []
    sampled: list[int | None] = []
    for history, target in cases:
        seen = {item for item, _ in history}
        exclude = seen if exclude_history else set()
        ranked = [s.item_id for s in model.recommend(history=history, k=k, exclude=exclude)]
        full.append(ranked.index(target) + 1 if target in ranked else None)
        if negatives:
            pool: set[str] = set()
            while len(pool) < negatives:
                item = catalogue[rng.randrange(len(catalogue))]
                if item != target and item not in seen:
                    pool.add(item)
            scores = model.score(history=history, items=[target, *sorted(pool)])  # type: ignore[attr-defined]
            sampled.append(1 + sum(1 for s in scores[1:] if s >= scores[0]))
    hr, ndcg, mrr = rank_metrics(full, k=k)
    s_hr, s_ndcg, _ = rank_metrics(sampled, k=k) if negatives else (None, None, None)
    return Metrics(
        hr=hr, ndcg=ndcg, mrr=mrr, sampled_hr=s_hr, sampled_ndcg=s_ndcg, cases=len(cases)
    )
