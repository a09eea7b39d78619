from __future__ import annotations

import json
import random
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch

from recommender.als import ALS, ALSConfig, _csr, als_solve
from recommender.ann import LSHIndex
from recommender.types import Interaction

SHOES = [f"shoe{i}" for i in range(8)]
HATS = [f"hat{i}" for i in range(8)]


def _two_clusters(seed: int = 0) -> list[Interaction]:
    """Shoppers who browse only shoes and shoppers who browse only hats; shoe0 and hat0 are
    the best-sellers of their cluster."""
    rng = random.Random(seed)
    seen = []
    for u in range(60):
        cluster = SHOES if u % 2 else HATS
        picked = [cluster[0], *rng.sample(cluster[1:], 3)]
        seen += [Interaction(f"u{u}", item, "view", float(t)) for t, item in enumerate(picked)]
    return seen


# Strong regularisation keeps the factors to the data's two directions: with as many factors as
# half the catalogue and little of it, a weak one lets unrelated items share directions.
CONFIG = ALSConfig(factors=8, iterations=6, regularization=20.0, alpha=10.0, seed=3)


@pytest.fixture(scope="module", params=[0, 100_000], ids=["lsh", "exhaustive"])
def model(request: pytest.FixtureRequest) -> ALS:
    return ALS.fit(_two_clusters(), replace(CONFIG, lsh_min_items=request.param))


# ---- the LSH index ----


def test_the_index_returns_the_exact_top_k_with_cosines_ties_by_row() -> None:
    vectors = np.array(
        [[1, 0, 0], [3, 1, 0], [1, 1, 0], [0, 1, 0], [0, 0, 1], [-1, 0, 0], [2, 2, 0]],
        dtype=np.float32,
    )
    index = LSHIndex.build(vectors, tables=4, bits=3, seed=0)
    got = index.query(np.array([1, 0, 0], dtype=np.float32), 4, exclude_rows={0})
    # cos([1,0,0], ·): row 1 3/sqrt(10); rows 2 and 6 both 1/sqrt(2) (a tie: lower row first);
    # rows 3 and 4 both 0 (row 3 first).
    assert [row for row, _ in got] == [1, 2, 6, 3]
    assert np.allclose([c for _, c in got], [3 / np.sqrt(10), 1 / np.sqrt(2), 1 / np.sqrt(2), 0])
    assert got == index.exact(np.array([1, 0, 0], dtype=np.float32), 4, exclude_rows={0})


def test_the_index_falls_back_to_every_row_when_its_buckets_hold_too_few() -> None:
    rng = np.random.default_rng(1)
    vectors = rng.standard_normal((50, 16)).astype(np.float32)
    index = LSHIndex.build(vectors, tables=1, bits=30, seed=0)  # buckets of about one row
    got = index.query(vectors[0], 45, exclude_rows={0, 1, 2})
    assert got == index.exact(vectors[0], 45, exclude_rows={0, 1, 2})
    assert len(got) == 45
    assert not {0, 1, 2} & {row for row, _ in got}
    assert len(index.query(vectors[0], 100)) == 50  # never more than there are rows


def test_the_index_recalls_most_of_the_true_neighbours_of_clustered_vectors() -> None:
    rng = np.random.default_rng(0)
    centres = rng.standard_normal((40, 32))
    vectors = centres[rng.integers(0, 40, 2000)] + 0.5 * rng.standard_normal((2000, 32))
    index = LSHIndex.build(vectors.astype(np.float32), tables=8, bits=12, seed=0)
    found = [
        len(
            {r for r, _ in index.query(index.vectors[q], 10, {q})}
            & {r for r, _ in index.exact(index.vectors[q], 10, {q})}
        )
        for q in range(100)
    ]
    assert sum(found) / 1000 >= 0.9


def test_a_saved_index_answers_the_same(tmp_path: Path) -> None:
    rng = np.random.default_rng(2)
    index = LSHIndex.build(rng.standard_normal((300, 8)).astype(np.float32), seed=5)
    index.save(tmp_path / "lsh")
    again = LSHIndex.load(tmp_path / "lsh")
    for q in range(10):
        assert again.query(index.vectors[q], 5, {q}) == index.query(index.vectors[q], 5, {q})


# ---- ALS ----


def test_the_batched_solve_matches_the_dense_formula_for_every_row(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rng = np.random.default_rng(0)
    counts = rng.integers(0, 3, (7, 5)).astype(np.float32) * (rng.random((7, 5)) < 0.5)
    counts[3] = 0  # a row with nothing observed solves to zero
    y = rng.standard_normal((5, 4)).astype(np.float32)
    alpha, reg = 2.0, 0.5
    rows, columns = np.nonzero(counts)
    got = als_solve(
        torch.from_numpy(y), _csr(rows, columns, counts[rows, columns], 7), alpha=alpha, reg=reg
    )
    for r in range(7):
        confidence = 1 + alpha * counts[r]
        preference = (counts[r] > 0).astype(np.float32)
        want = np.linalg.solve(
            y.T @ np.diag(confidence) @ y + reg * np.eye(4), y.T @ (confidence * preference)
        )
        assert np.allclose(got[r].numpy(), want, atol=1e-5), r
    monkeypatch.setattr("recommender.als._CHUNK_FLOATS", 1)  # one row per batch: same answer
    one_by_one = als_solve(
        torch.from_numpy(y), _csr(rows, columns, counts[rows, columns], 7), alpha=alpha, reg=reg
    )
    assert torch.allclose(one_by_one, got, atol=1e-6)


def test_neighbours_of_an_item_come_from_its_own_cluster(model: ALS) -> None:
    got = model.neighbours("shoe1", 5)
    assert len(got) == 5
    assert {s.item_id for s in got} <= set(SHOES) - {"shoe1"}
    assert [s.score for s in got] == sorted((s.score for s in got), reverse=True)
    assert model.neighbours("unknown", 5) == []


def test_recommend_excludes_history_and_exclude_and_is_always_full(model: ALS) -> None:
    history = [("hat1", 1.0), ("hat2", 2.0)]
    got = model.recommend(history=history, k=5, exclude={"hat0"})
    assert {s.item_id for s in got} <= set(HATS) - {"hat0", "hat1", "hat2"}
    assert len(got) == 5
    # More than the hats left: the rest of the catalogue follows, nothing repeated or excluded.
    everything = model.recommend(history=history, k=20, exclude={"hat0"})
    assert sorted(s.item_id for s in everything) == sorted(
        set(SHOES + HATS) - {"hat0", "hat1", "hat2"}
    )
    assert {s.item_id for s in everything[:5]} <= set(HATS)


def test_a_shopper_with_no_known_items_gets_the_best_sellers(model: ALS) -> None:
    got = model.recommend(history=[("never-seen", 1.0)], k=3)
    assert [s.item_id for s in got[:2]] == ["hat0", "shoe0"]  # 30 views each: a tie, by id
    assert [s.score for s in got] == [-2.0, -2.0, -2.0]
    assert model.recommend(history=[], k=0) == []
    with pytest.raises(ValueError, match="k must be >= 0"):
        model.recommend(history=[], k=-1)


def test_score_ranks_the_shoppers_cluster_first_and_unknown_items_last(model: ALS) -> None:
    scores = model.score(history=[("shoe1", 1.0), ("shoe2", 2.0)], items=["shoe3", "hat3", "x"])
    assert scores[0] > scores[1] > scores[2] == -2.0
    assert scores[1] >= -1.0
    assert scores[0] <= 1.0


def test_fit_is_deterministic_for_a_seed() -> None:
    seen = _two_clusters()
    first, second = ALS.fit(seen, CONFIG), ALS.fit(seen, CONFIG)
    assert np.array_equal(first.item_factors, second.item_factors)
    assert np.array_equal(first.index.planes, second.index.planes)
    other = ALS.fit(seen, ALSConfig(factors=8, iterations=6, seed=4))
    assert not np.array_equal(first.item_factors, other.item_factors)


def test_a_saved_model_loads_as_plain_files_and_recommends_the_same(
    model: ALS, tmp_path: Path
) -> None:
    model.save(tmp_path / "m")
    config = json.loads((tmp_path / "m" / "config.json").read_text())
    assert (config["kind"], config["format_version"], config["factors"]) == ("als", 1, 8)
    assert not list((tmp_path / "m").rglob("*.pkl"))
    again = ALS.load(tmp_path / "m")
    assert again.config == model.config
    for history in ([("shoe1", 1.0)], [("hat3", 1.0), ("shoe2", 2.0)], []):
        assert again.recommend(history=history, k=10) == model.recommend(history=history, k=10)
    assert again.neighbours("hat4", 4) == model.neighbours("hat4", 4)
