"""STAN, the session neighbourhood: what the current session's latest action, a stored session's
age and an item's place in it each do to the list."""

from __future__ import annotations

from pathlib import Path

import pytest

from recommender.build import build
from recommender.predictor import load_model
from recommender.stan import STAN, STANConfig, current_session
from recommender.types import Interaction

DAY = 86_400.0


def _sessions(*walks: tuple[float, list[str]], repeat: int = 1) -> list[Interaction]:
    """Each walk (its start, its items a minute apart) as ``repeat`` shoppers' sessions."""
    out = []
    for n, (start, items) in enumerate(walks):
        for r in range(repeat):
            out += [
                Interaction(f"s{n}-{r}", item, "view", start + 60 * step)
                for step, item in enumerate(items)
            ]
    return out


def _ids(model: STAN, history: list[tuple[str, float]], k: int = 3) -> list[str]:
    return [s.item_id for s in model.recommend(history=history, k=k)]


def test_what_other_sessions_did_next_comes_first_and_the_history_never() -> None:
    model = STAN.fit(_sessions((0.0, ["a", "b", "c"]), (0.0, ["x", "y"]), repeat=5), STANConfig())
    top = model.recommend(history=[("a", 10 * DAY)], k=4)
    assert [s.item_id for s in top[:2]] == ["b", "c"]  # the next one, then the one after
    assert all(s.score > 0 for s in top[:2])
    # Popularity fills the rest, below every neighbourhood score.
    assert {s.item_id for s in top[2:]} <= {"x", "y"}
    assert [s.score for s in top[2:]] == [0.0, 0.0]
    assert "a" not in _ids(model, [("a", 10 * DAY)], k=5)
    excluded = model.recommend(history=[("a", 10 * DAY)], k=5, exclude={"b"})
    assert [s.item_id for s in excluded][:1] == ["c"]


def test_the_latest_action_of_the_session_weighs_most() -> None:
    model = STAN.fit(
        _sessions((0.0, ["a", "b"]), (0.0, ["c", "d"]), repeat=5), STANConfig(neighbours=5)
    )
    # Only five neighbours vote: the sessions sharing the latest item, "c", are the nearer ones.
    assert _ids(model, [("a", DAY), ("c", DAY + 60)], k=1) == ["d"]
    assert _ids(model, [("c", DAY), ("a", DAY + 60)], k=1) == ["b"]


def test_recent_sessions_outvote_old_ones() -> None:
    walks = _sessions((0.0, ["a", "early"]), (29 * DAY, ["a", "late"]), repeat=3)
    faded = STAN.fit(walks, STANConfig(time_decay_days=7.0))
    assert _ids(faded, [("a", 30 * DAY)], k=1) == ["late"]
    # Without the fade the two tie on every count, and the ids break the tie the other way.
    flat = STAN.fit(walks, STANConfig(time_decay_days=float("inf")))
    assert _ids(flat, [("a", 30 * DAY)], k=2) == ["early", "late"]


def test_an_item_after_the_shared_one_counts_more_than_one_before_it() -> None:
    model = STAN.fit(_sessions((0.0, ["before", "a", "after"]), repeat=3), STANConfig())
    assert _ids(model, [("a", DAY)], k=2) == ["after", "before"]


def test_neighbours_found_through_the_latest_action_vote_louder() -> None:
    # Five sessions share the session's first product, four its latest; every product of the
    # session weighs the same in the similarity, so only the match's fade separates them.
    walks = _sessions(*[(0.0, ["a", "b"])] * 5, *[(0.0, ["c", "d"])] * 4)
    history = [("a", DAY), ("c", DAY + 60)]
    flat = STAN.fit(walks, STANConfig(position_decay=float("inf"), match_decay=float("inf")))
    assert _ids(flat, history, k=1) == ["b"]  # more of them
    faded = STAN.fit(walks, STANConfig(position_decay=float("inf"), match_decay=1.0))
    assert _ids(faded, history, k=1) == ["d"]  # found through the latest


def test_a_rare_products_vote_is_raised_above_a_bestsellers() -> None:
    walks = _sessions(
        *[(0.0, ["a", "bestseller"])] * 3,
        *[(0.0, ["a", "rare"])] * 2,
        *[(0.0, ["x", "bestseller"])] * 10,
    )
    assert _ids(STAN.fit(walks, STANConfig(idf_weight=0.0)), [("a", DAY)], k=1) == ["bestseller"]
    assert _ids(STAN.fit(walks, STANConfig(idf_weight=2.0)), [("a", DAY)], k=1) == ["rare"]


def test_only_the_latest_session_of_a_history_is_compared() -> None:
    config = STANConfig(session_gap_s=1800.0)
    history = [("a", 0.0), ("b", 60.0), ("c", 60.0 + 3600.0), ("d", 120.0 + 3600.0)]
    assert current_session(history, config) == history[2:]
    model = STAN.fit(_sessions((0.0, ["a", "x"]), (0.0, ["c", "y"]), repeat=3), config)
    assert _ids(model, history, k=1) == ["y"]


def test_only_the_newest_sessions_are_kept_and_one_item_sessions_never() -> None:
    walks = _sessions((0.0, ["a", "old"]), (DAY, ["a", "new"]), (2 * DAY, ["lonely"]))
    model = STAN.fit(walks, STANConfig(max_sessions=1))
    assert model.items == [["a", "new"]]
    assert _ids(model, [("a", 3 * DAY)], k=1) == ["new"]


def test_round_trip_and_a_model_of_another_kind_is_refused(tmp_path: Path) -> None:
    world = _sessions((0.0, ["a", "b", "c"]), (DAY, ["b", "d"]), repeat=2)
    model = build("stan", world, [], timed=True).model
    assert isinstance(model, STAN)
    model.save(tmp_path / "m")
    loaded = load_model(tmp_path / "m")
    assert isinstance(loaded, STAN)
    assert loaded.config == model.config
    history = [("b", 2 * DAY)]
    assert loaded.recommend(history=history, k=3) == model.recommend(history=history, k=3)
    (tmp_path / "m" / "config.json").write_text('{"kind": "covisit", "format_version": 1}')
    with pytest.raises(ValueError, match="stan"):
        STAN.load(tmp_path / "m")
    with pytest.raises(ValueError, match="k must be"):
        model.recommend(history=history, k=-1)


def test_without_real_time_a_shoppers_whole_history_is_one_session() -> None:
    untimed = build("stan", _sessions((0.0, ["a", "b"])), [], timed=False).model
    assert isinstance(untimed, STAN)
    assert untimed.config.session_gap_s == float("inf")
    assert len(current_session([("a", 0.0), ("b", 10 * DAY)], untimed.config)) == 2


def test_a_stored_session_keeps_only_its_latest_items() -> None:
    # A crawler that walked the whole catalogue in one visit.
    crawl = [Interaction("bot", f"p{n}", "view", float(n)) for n in range(1000)]
    model = STAN.fit(crawl, STANConfig(max_len=20))
    assert model.items == [[f"p{n}" for n in range(980, 1000)]]
    assert model.recommend(history=[("p0", 2000.0)], k=1)[0].score == 0.0  # nothing shared
