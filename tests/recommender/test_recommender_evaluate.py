from __future__ import annotations

import math
from collections.abc import Collection, Sequence
from pathlib import Path
from typing import ClassVar

from recommender.evaluate import Case, evaluate, holdout_cases
from recommender.popularity import Popularity, PopularityConfig
from recommender.types import Interaction, Scored

KINDS = frozenset({"view", "cart", "purchase"})


def test_cases_are_each_shoppers_last_holdout_interaction() -> None:
    seen = [
        Interaction("u1", "a", "view", 1.0),
        Interaction("u1", "b", "view", 5.0),
        Interaction("u1", "c", "view", 6.0),
        Interaction("u2", "a", "view", 1.0),  # nothing in the holdout
        Interaction("u3", "z", "view", 9.0),  # no history before it
        Interaction("u4", "a", "rec_click", 7.0),
        Interaction("u4", "b", "view", 2.0),
    ]
    cases = holdout_cases(seen, holdout_from=5.0, kinds=KINDS)
    assert cases == [([("a", 1.0), ("b", 5.0)], "c")]


def hit_rate_and_ndcg(model: Popularity, cases: list[Case], *, k: int) -> tuple[float, float]:
    metrics = evaluate(model, cases, k=k, exclude_history=False)
    return metrics.hr, metrics.ndcg


def test_a_perfect_ranking_scores_one_and_ranks_are_discounted() -> None:
    model = Popularity.from_scores(config=PopularityConfig(), scores={"a": 3.0, "b": 2.0, "c": 1.0})
    assert hit_rate_and_ndcg(model, [([("x", 1.0)], "a")], k=10) == (1.0, 1.0)
    hr, ndcg = hit_rate_and_ndcg(model, [([], "b"), ([], "d")], k=2)
    assert hr == 0.5
    assert math.isclose(ndcg, (1 / math.log2(3)) / 2)
    assert hit_rate_and_ndcg(model, [], k=10) == (0.0, 0.0)


def test_metrics_at_their_limits_and_by_hand() -> None:
    from recommender.evaluate import rank_metrics

    assert rank_metrics([1, 1, 1], k=10) == (1.0, 1.0, 1.0)  # perfect
    assert rank_metrics([None, 11], k=10) == (0.0, 0.0, 0.0)  # nothing in the top k
    hr, ndcg, mrr = rank_metrics([1, 2, None, 4], k=10)
    assert hr == 0.75
    assert math.isclose(ndcg, (1 + 1 / math.log2(3) + 1 / math.log2(5)) / 4)
    assert math.isclose(mrr, (1 + 1 / 2 + 1 / 4) / 4)


def test_evaluate_excludes_history_and_ranks_sampled_negatives() -> None:
    from recommender.evaluate import evaluate

    model = Popularity.from_scores(config=PopularityConfig(), scores={"a": 3.0, "b": 2.0, "c": 1.0})
    # "a" is in the history, so "b" ranks first for the target "b".
    metrics = evaluate(model, [([("a", 1.0)], "b")], k=1, negatives=1, catalogue=["a", "b", "c"])
    assert (metrics.hr, metrics.ndcg, metrics.mrr) == (1.0, 1.0, 1.0)
    assert (metrics.sampled_hr, metrics.cases) == (1.0, 1)  # b beats its one negative, c


def test_auc_at_its_limits_and_by_hand() -> None:
    from recommender.evaluate import auc

    assert auc([True, True, False, False], [0.9, 0.8, 0.2, 0.1]) == 1.0  # perfect
    assert auc([True, True, False, False], [0.1, 0.2, 0.8, 0.9]) == 0.0  # reversed
    assert auc([True, False, False, True], [0.5, 0.5, 0.5, 0.5]) == 0.5  # all ties
    # Positives 0.8 and 0.4, negatives 0.6, 0.4, 0.1: the pairs (pos, neg) won are
    # 0.8 > all three (3), 0.4 > 0.1 (1) and 0.4 = 0.4 (a half): 4.5 of 6.
    assert auc([True, False, True, False, False], [0.8, 0.6, 0.4, 0.4, 0.1]) == 4.5 / 6


def test_auc_needs_both_classes() -> None:
    import pytest

    from recommender.evaluate import auc

    with pytest.raises(ValueError, match="one positive and one negative"):
        auc([True, True], [0.1, 0.2])


def test_gauc_weights_each_groups_auc_by_its_size_and_skips_one_class_groups() -> None:
    from recommender.evaluate import gauc

    assert gauc([([True, False], [1.0, 0.0]), ([True, False, False], [2.0, 1.0, 0.0])]) == 1.0
    assert gauc([([True, False], [0.0, 1.0]), ([True, False, False], [0.0, 1.0, 2.0])]) == 0.0
    assert gauc([([True, False, False], [0.3, 0.3, 0.3])]) == 0.5
    groups = [
        ([True, False], [1.0, 0.0]),  # AUC 1, 2 candidates
        ([True, False, False, False], [0.5, 0.9, 0.5, 0.1]),  # beats 0.1, ties 0.5: 1.5/3 = 0.5
        ([False, False], [0.2, 0.1]),  # no positive: skipped
    ]
    assert gauc(groups) == (2 * 1.0 + 4 * 0.5) / 6


# Each shopper's (keyed by their last item) score of each item: shopper h2's scores sit above
# all of h1's, so pooled AUC (across shoppers) and GAUC (within each shopper) differ.
_SCORES = {"h1": {"t": 1.0, "n1": 0.0, "n2": 0.0}, "h2": {"t": 10.5, "n1": 10.0, "n2": 11.0}}


class _PerShopperScores:
    kind: ClassVar[str] = "per_shopper"

    def score(self, *, history: Sequence[tuple[str, float]], items: Sequence[str]) -> list[float]:
        return [_SCORES[history[-1][0]][item] for item in items]

    def recommend(
        self, *, history: Sequence[tuple[str, float]], k: int, exclude: Collection[str] = ()
    ) -> list[Scored]:
        items = [i for i in ("t", "n1", "n2") if i not in exclude]
        scores = self.score(history=history, items=items)
        ranked = sorted(zip(items, scores, strict=True), key=lambda pair: -pair[1])
        return [Scored(item, score) for item, score in ranked[:k]]

    def save(self, path: Path) -> None:
        raise NotImplementedError

    @classmethod
    def load(cls, path: Path) -> _PerShopperScores:
        raise NotImplementedError


def test_evaluate_fills_auc_and_gauc_only_with_negatives() -> None:
    model = _PerShopperScores()
    cases: list[Case] = [([("h1", 1.0)], "t"), ([("h2", 1.0)], "t")]
    metrics = evaluate(model, cases, k=2, negatives=2, catalogue=["t", "n1", "n2"])
    # Shopper 1: t 1.0 over n1, n2 at 0.0: AUC 1. Shopper 2: t 10.5 between 10.0 and 11.0: 0.5.
    assert metrics.gauc == (3 * 1.0 + 3 * 0.5) / 6
    # Pooled: 1.0 beats the two 0.0s; 10.5 beats both 0.0s and 10.0: 5 of 2 x 4 pairs.
    assert metrics.auc == 5 / 8
    plain = evaluate(model, cases, k=2)
    assert (plain.auc, plain.gauc) == (None, None)
