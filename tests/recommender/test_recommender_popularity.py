from pathlib import Path

import pytest

from recommender.popularity import Popularity, PopularityConfig
from recommender.predictor import load_model
from recommender.types import Interaction, Scored

DAY = 86_400.0
T0 = 1_767_225_600.0


def _hand_example() -> list[Interaction]:
    # Default weights: view 1, cart 3, purchase 5.
    # A = 1 + 3 = 4, B = 1 + 1 + 5 = 7, C = 5, D = 1; E has only an ignored kind.
    return [
        Interaction("u1", "A", "view", T0),
        Interaction("u1", "A", "cart", T0 + 10),
        Interaction("u2", "B", "view", T0 + 20),
        Interaction("u3", "B", "view", T0 + 30),
        Interaction("u3", "B", "purchase", T0 + 40),
        Interaction("u4", "C", "purchase", T0 + 50),
        Interaction("u4", "D", "view", T0 + 60),
        Interaction("u4", "D", "rec_click", T0 + 70),
        Interaction("u5", "E", "rec_impression", T0 + 80),
    ]


def test_ranks_by_weighted_interaction_counts() -> None:
    model = Popularity.fit(_hand_example(), PopularityConfig())

    assert model.recommend(history=[], k=3) == [
        Scored("B", 7.0),
        Scored("C", 5.0),
        Scored("A", 4.0),
    ]


def test_custom_weights_ignore_missing_kinds_and_break_ties_by_item_id() -> None:
    config = PopularityConfig(weights={"view": 2.0, "purchase": 10.0})

    model = Popularity.fit(_hand_example(), config)

    # Carts no longer count: A = 2, B = 2 + 2 + 10, C = 10, D = 2 (tie with A, A first).
    assert model.recommend(history=[], k=10) == [
        Scored("B", 14.0),
        Scored("C", 10.0),
        Scored("A", 2.0),
        Scored("D", 2.0),
    ]


def test_equal_scores_are_ordered_by_item_id_whatever_the_input_order() -> None:
    interactions = [Interaction("u", item, "view", T0) for item in ["c", "a", "d", "b"]]

    model = Popularity.fit(interactions, PopularityConfig())

    assert [s.item_id for s in model.recommend(history=[], k=4)] == ["a", "b", "c", "d"]


def test_excluded_items_are_skipped_and_the_list_is_refilled() -> None:
    model = Popularity.fit(_hand_example(), PopularityConfig())

    recs = model.recommend(history=[("B", T0)], k=2, exclude=["B", "not-in-catalogue"])

    assert recs == [Scored("C", 5.0), Scored("A", 4.0)]


def test_k_larger_than_catalogue_returns_whole_catalogue() -> None:
    model = Popularity.fit(_hand_example(), PopularityConfig())

    recs = model.recommend(history=[], k=50, exclude={"C"})

    assert recs == [Scored("B", 7.0), Scored("A", 4.0), Scored("D", 1.0)]


def test_k_zero_gives_nothing_and_negative_k_is_an_error() -> None:
    model = Popularity.fit(_hand_example(), PopularityConfig())

    assert model.recommend(history=[], k=0) == []
    with pytest.raises(ValueError, match="k must be >= 0"):
        model.recommend(history=[], k=-1)


def test_empty_training_data_recommends_nothing() -> None:
    model = Popularity.fit([], PopularityConfig(half_life_days=1.0))

    assert model.recommend(history=[], k=5) == []


def test_time_decay_halves_weight_per_half_life_before_newest_interaction() -> None:
    interactions = [
        Interaction("u1", "A", "view", T0),  # 2 days old: 1 * 0.25
        Interaction("u1", "A", "purchase", T0 + DAY),  # 1 day old: 5 * 0.5
        Interaction("u2", "B", "view", T0 + 2 * DAY),  # newest: 1
        Interaction("u2", "C", "cart", T0 + 2 * DAY),  # newest: 3
    ]

    model = Popularity.fit(interactions, PopularityConfig(half_life_days=1.0))

    assert model.recommend(history=[], k=3) == [
        Scored("C", 3.0),
        Scored("A", 2.75),
        Scored("B", 1.0),
    ]


def test_config_rejects_negative_weights_and_non_positive_half_life() -> None:
    with pytest.raises(ValueError, match="weight for 'view'"):
        PopularityConfig(weights={"view": -1.0})
    with pytest.raises(ValueError, match="half_life_days"):
        PopularityConfig(half_life_days=0.0)


def test_save_then_load_gives_identical_model_and_recommendations(tmp_path: Path) -> None:
    interactions = [*_hand_example(), Interaction("u9", "D", "view", T0 + 3 * DAY)]
    model = Popularity.fit(interactions, PopularityConfig(half_life_days=1.5))
    model.save(tmp_path / "model")

    loaded = Popularity.load(tmp_path / "model")

    assert sorted(p.name for p in (tmp_path / "model").iterdir()) == [
        "config.json",
        "scores.json",
        "vocab.json",
    ]
    assert loaded == model
    for exclude in [(), ("B",), ("B", "D")]:
        assert loaded.recommend(history=[], k=10, exclude=exclude) == model.recommend(
            history=[], k=10, exclude=exclude
        )


def test_load_model_picks_the_class_from_saved_kind(tmp_path: Path) -> None:
    model = Popularity.fit(_hand_example(), PopularityConfig())
    model.save(tmp_path)

    loaded = load_model(tmp_path)

    assert isinstance(loaded, Popularity)
    assert loaded == model


def test_constructor_rejects_unsorted_ranking() -> None:
    with pytest.raises(ValueError, match="sorted"):
        Popularity(config=PopularityConfig(), ranked=(Scored("a", 1.0), Scored("b", 2.0)))
