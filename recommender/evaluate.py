"""Next-item evaluation: each case is a shopper's history and the item they turned to next.

HR@k: the share of cases whose target is in the top k. NDCG@k: 1/log2(rank + 1) of the target's
rank (1-based) when in the top k, else 0, averaged. MRR@k: 1/rank in the top k. A perfect
ranking scores 1 on all three. With sampled negatives, also AUC (pooled over all cases) and GAUC
(SLi-Rec's group AUC: each case's AUC, weighted by its number of candidates).
"""

from __future__ import annotations

import math
import random
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

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
    auc: float | None = None  # pooled over the cases' target and negatives (with negatives only)
    gauc: float | None = None  # per-case AUC weighted by candidates (with negatives only)
    # Each case's 1-based full-ranking rank when in the top k, else None: metrics at a smaller
    # cut-off come from the same ranking (rank_metrics(ranks, k=5)).
    ranks: tuple[int | None, ...] = ()
    sampled_cases: int = 0  # cases the sampled protocol ranked (the paper's: at most 10,000)


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


def auc(labels: Sequence[bool], scores: Sequence[float]) -> float:
    """Probability that a random positive outscores a random negative, ties counting half.

    Mann-Whitney: with average ranks over tied scores (1-based, ascending),
    AUC = (sum of the positives' ranks - P(P+1)/2) / (P N). A perfect ranking gives 1.0, a
    reversed one 0.0, all scores tied 0.5. Needs at least one positive and one negative.
    """
    if len(labels) != len(scores):
        raise ValueError(f"got {len(labels)} labels but {len(scores)} scores")
    positive = np.asarray(labels, dtype=bool)
    n_pos = int(positive.sum())
    n_neg = len(positive) - n_pos
    if n_pos == 0 or n_neg == 0:
        raise ValueError("AUC needs at least one positive and one negative")
    _, inverse, counts = np.unique(
        np.asarray(scores, dtype=np.float64), return_inverse=True, return_counts=True
    )
    ends = np.cumsum(counts)  # a tie group holds ranks ends - counts + 1 .. ends
    average_rank = (ends - counts + 1 + ends) / 2.0
    rank_sum = float(average_rank[inverse][positive].sum())
    return (rank_sum - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg)


def gauc(groups: Iterable[tuple[Sequence[bool], Sequence[float]]]) -> float:
    """Group AUC (SLi-Rec): each group's AUC, averaged weighted by the group's size.

    A group is one case's (labels, scores). Groups with only positives or only negatives have
    no AUC and are skipped, as in SLi-Rec; at least one group must have both.
    """
    total = weight = 0.0
    for labels, scores in groups:
        n_pos = sum(1 for label in labels if label)
        if 0 < n_pos < len(labels):
            total += len(labels) * auc(labels, scores)
            weight += len(labels)
    if weight == 0:
        raise ValueError("GAUC needs a group with at least one positive and one negative")
    return total / weight


def _top_k(
    model: Recommender, cases: Sequence[Case], *, k: int, exclude_history: bool, batch: int = 256
) -> list[list[str]]:
    """Each case's top-k item ids; batched when the model can (the neural models' matrix
    products amortise over a batch of shoppers)."""
    excludes = [{item for item, _ in history} if exclude_history else set() for history, _ in cases]
    recommend_batch = getattr(model, "recommend_batch", None)
    if recommend_batch is None:
        return [
            [s.item_id for s in model.recommend(history=history, k=k, exclude=exclude)]
            for (history, _), exclude in zip(cases, excludes, strict=True)
        ]
    lists: list[list[str]] = []
    for start in range(0, len(cases), batch):
        chunk = cases[start : start + batch]
        scored = recommend_batch(
            histories=[history for history, _ in chunk],
            k=k,
            excludes=excludes[start : start + batch],
        )
        lists += [[s.item_id for s in one] for one in scored]
    return lists


SAMPLERS = ("distinct", "paper")
PAPER_USERS = 10_000  # the paper's code ranks at most this many shoppers, a random sample


def sampled_negatives(
    rng: random.Random,
    catalogue: Sequence[str],
    *,
    n: int,
    seen: set[str],
    target: str,
    sampler: str,
) -> list[str]:
    """``n`` negatives from ``catalogue``, never an item of ``seen`` (the shopper's history).

    ``distinct``: n different items, never the target. ``paper``: the SASRec code's draws, n
    uniform draws with replacement that exclude only the history (the target itself may be
    drawn, and then ties with itself, counting against it).
    """
    if sampler == "paper":
        drawn: list[str] = []
        while len(drawn) < n:
            item = catalogue[rng.randrange(len(catalogue))]
            if item not in seen:
                drawn.append(item)
        return drawn
    pool: set[str] = set()
    while len(pool) < n:
        item = catalogue[rng.randrange(len(catalogue))]
        if item != target and item not in seen:
            pool.add(item)
    return sorted(pool)


def evaluate(
    model: Recommender,
    cases: Sequence[Case],
    *,
    k: int = 10,
    negatives: int = 0,
    catalogue: Sequence[str] = (),
    seed: int = 0,
    exclude_history: bool = True,
    sampler: str = "distinct",
) -> Metrics:
    """Full-ranking metrics over `cases`; with `negatives`, also the sampled protocol (the target
    ranked among that many items the user never touched, drawn uniformly from `catalogue`;
    a tie with the target counts against it) and AUC/GAUC over the same candidates (ties
    count half there). Sampled ranking needs `model.score`.
    ``sampler="paper"`` is the SASRec paper's protocol exactly: negatives as
    `sampled_negatives` draws them, over a seeded sample of at most 10,000 cases (full
    ranking still covers every case; ``Metrics.sampled_cases`` says how many were sampled).
    `exclude_history=False` lets a shopper's target be an item they had seen before (shoppers
    return to products; the retraining gate scores that)."""
    if sampler not in SAMPLERS:
        raise ValueError(f"sampler must be one of {', '.join(SAMPLERS)}, got {sampler!r}")
    rng = random.Random(seed)
    chosen = _sampled_cases(len(cases), sampler, rng) if negatives else set()
    full: list[int | None] = []
    sampled: list[int | None] = []
    groups: list[tuple[list[bool], list[float]]] = []
    for n, ((history, target), ranked) in enumerate(
        zip(cases, _top_k(model, cases, k=k, exclude_history=exclude_history), strict=True)
    ):
        full.append(ranked.index(target) + 1 if target in ranked else None)
        if n in chosen:
            seen = {item for item, _ in history}
            pool = sampled_negatives(
                rng, catalogue, n=negatives, seen=seen, target=target, sampler=sampler
            )
            scores = model.score(history=history, items=[target, *pool])  # type: ignore[attr-defined]
            sampled.append(1 + sum(1 for s in scores[1:] if s >= scores[0]))
            groups.append(([True] + [False] * negatives, list(scores)))
    hr, ndcg, mrr = rank_metrics(full, k=k)
    s_hr, s_ndcg, _ = rank_metrics(sampled, k=k) if negatives else (None, None, None)
    pooled_labels = [label for labels, _ in groups for label in labels]
    pooled_scores = [score for _, scores in groups for score in scores]
    return Metrics(
        hr=hr,
        ndcg=ndcg,
        mrr=mrr,
        sampled_hr=s_hr,
        sampled_ndcg=s_ndcg,
        cases=len(cases),
        ranks=tuple(full),
        auc=auc(pooled_labels, pooled_scores) if groups else None,
        gauc=gauc(groups) if groups else None,
        sampled_cases=len(sampled),
    )


def _sampled_cases(n: int, sampler: str, rng: random.Random) -> set[int]:
    """Which cases the sampled protocol ranks: all, or the paper's random 10,000."""
    if sampler == "paper" and n > PAPER_USERS:
        return set(rng.sample(range(n), PAPER_USERS))
    return set(range(n))


def metrics_row(metrics: Metrics, *, k: int, deep: int | None = None) -> dict[str, float]:
    """The figures a table or a registered run reports: HR/NDCG/MRR@k, Recall/MRR@``deep`` when
    ranked deeper (session benchmarks publish @20), and the sampled protocol's when it ran."""
    hr, ndcg, mrr = rank_metrics(metrics.ranks, k=k)
    row = {f"hr@{k}": round(hr, 4), f"ndcg@{k}": round(ndcg, 4), f"mrr@{k}": round(mrr, 4)}
    if deep is not None and deep != k:
        recall, _, mrr_deep = rank_metrics(metrics.ranks, k=deep)
        row |= {f"recall@{deep}": round(recall, 4), f"mrr@{deep}": round(mrr_deep, 4)}
    if metrics.sampled_hr is not None:
        at = deep or k
        row |= {
            f"sampled_hr@{at}": round(metrics.sampled_hr, 4),
            f"sampled_ndcg@{at}": round(metrics.sampled_ndcg or 0.0, 4),
            "auc": round(metrics.auc or 0.0, 4),
            "gauc": round(metrics.gauc or 0.0, 4),
        }
    return row
