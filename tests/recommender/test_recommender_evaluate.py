from __future__ import annotations

import math

from recommender.evaluate import Case, evaluate, holdout_cases
from recommender.popularity import Popularity, PopularityConfig
from recommender.types import Interaction

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
    assert hr == 0.5 and math.isclose(ndcg, (1 / math.log2(3)) / 2)
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
