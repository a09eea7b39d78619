from __future__ import annotations

import math

from recommender.covisit import CoVisitConfig, covisit_fit, covisit_neighbours
from recommender.types import Interaction, Scored


def _it(user: str, item: str, ts: float, kind: str = "view") -> Interaction:
    return Interaction(user_id=user, item_id=item, interaction=kind, ts=ts)


def test_pairs_within_the_window_count_by_the_later_kind_and_normalise_by_frequency() -> None:
    table = covisit_fit(
        [
            _it("u1", "a", 0),
            _it("u1", "b", 60),
            _it("u1", "c", 7200),  # c: too late for a, b
            _it("u2", "a", 0),
            _it("u2", "b", 10, "cart"),
            _it("u3", "rec_impression_is_ignored", 0, "rec_impression"),
        ],
        CoVisitConfig(window_s=3600),
    )
    # a-b: u1 view (1) + u2 cart (3) = 4 each way. Frequencies: a 2, b 2, c 1.
    assert {item: [(n.item_id, round(n.score, 9)) for n in ns] for item, ns in table.items()} == {
        "a": [("b", round(4 / math.sqrt(2), 9))],
        "b": [("a", round(4 / math.sqrt(2), 9))],
    }


def test_the_same_item_twice_is_not_its_own_neighbour_and_lookback_is_bounded() -> None:
    events = [_it("u", "a", 0), _it("u", "a", 1)] + [_it("u", f"x{i}", 2 + i) for i in range(3)]
    table = covisit_fit(events, CoVisitConfig(lookback=1))
    assert "a" not in [n.item_id for n in table["a"]]
    assert [n.item_id for n in table["x2"]] == ["x1"]  # only the one before it


def test_neighbours_of_the_latest_item_come_first() -> None:
    table = {"old": [Scored("n1", 1.0)], "new": [Scored("n2", 1.0), Scored("old", 5.0)]}
    merged = covisit_neighbours(table, ["old", "new"], k=5, exclude={"x"})
    assert [s.item_id for s in merged] == ["n2", "n1"]  # the window's own items are never offered
    assert covisit_neighbours(table, ["old", "new"], k=5, exclude={"n2"})[0].item_id == "n1"


def test_the_model_recommends_neighbours_of_recent_items_then_popular(tmp_path) -> None:
    from recommender.covisit import CoVisitation
    from recommender.predictor import load_model

    seen = [
        _it("u1", "shoe1", 0),
        _it("u1", "shoe2", 60),
        _it("u2", "shoe1", 0),
        _it("u2", "shoe3", 60),
        _it("u3", "hat1", 0),
        _it("u3", "hat2", 60),
        _it("u4", "pop", 0),
        _it("u5", "pop", 0),
        _it("u6", "pop", 0),
    ]
    model = CoVisitation.fit(seen, CoVisitConfig())

    got = model.recommend(history=[("shoe1", 10.0)], k=4, exclude={"hat2"})
    assert [s.item_id for s in got[:2]] == ["shoe2", "shoe3"]  # its neighbours (a tie, by id)
    assert [s.item_id for s in got[2:]] == ["pop", "hat1"]  # then the most popular, not hat2
    assert [s.score for s in got[2:]] == [0.0, 0.0]
    assert [s.item_id for s in model.recommend(history=[], k=1)] == ["pop"]

    model.save(tmp_path / "m")
    again = load_model(tmp_path / "m")
    assert isinstance(again, CoVisitation)
    assert again.recommend(history=[("shoe1", 10.0)], k=4, exclude={"hat2"}) == got
