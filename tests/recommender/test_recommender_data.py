from __future__ import annotations

from pathlib import Path

import pytest

from recommender.data import leave_one_out, load, sequences, temporal
from recommender.types import Interaction
from tests.conftest import shared_data


def test_each_format_reads_users_items_and_order(tmp_path: Path) -> None:
    files = {
        "sequences": ("beauty.txt", "1 10 11 12\n2 11\n"),
        "pairs": ("video.txt", "1 10\n1 11\n2 11\n1 12\n"),
        "sessions": (
            "clicks.txt",
            "SessionId\tItemId\tTime\n1\t10\t100.5\n1\t11\t160.0\n2\t11\t5.0\n",
        ),
        "diginetica": (
            "views.csv",
            "session_id;user_id;item_id;timeframe;eventdate\n1;NA;10;2000;2016-05-09\n",
        ),
        "interactions": (
            "h.csv",
            "user_id,item_id,interaction_type,timestamp\nu,10,cart,2026-01-01T00:00:00Z\n",
        ),
    }
    got = {}
    for fmt, (name, text) in files.items():
        (tmp_path / name).write_text(text)
        got[fmt] = load(tmp_path / name, fmt)
    assert [(i.user_id, i.item_id, i.ts) for i in got["sequences"]] == [
        ("1", "10", 0.0),
        ("1", "11", 1.0),
        ("1", "12", 2.0),
        ("2", "11", 0.0),
    ]
    assert [(i.user_id, i.item_id, i.ts) for i in got["pairs"]][-1] == ("1", "12", 2.0)
    assert got["sessions"][1] == Interaction("1", "11", "view", 160.0)
    assert got["diginetica"] == [Interaction("1", "10", "view", 1462752000.0 + 2.0)]
    assert got["interactions"] == [Interaction("u", "10", "cart", 1767225600.0)]
    with pytest.raises(ValueError, match="unknown format"):
        load(tmp_path / "h.csv", "parquet")


def test_leave_one_out_holds_out_the_last_two() -> None:
    seen = [Interaction("u", str(n), "view", float(n)) for n in range(5)] + [
        Interaction("short", "9", "view", 0.0),
        Interaction("short", "8", "view", 1.0),
    ]
    split = leave_one_out(seen)
    assert [i.item_id for i in split.train if i.user_id == "u"] == ["0", "1", "2"]
    assert [i.item_id for i in split.train if i.user_id == "short"] == ["9", "8"]
    assert split.cases == [([("0", 0.0), ("1", 1.0), ("2", 2.0), ("3", 3.0)], "4")]


def test_temporal_predicts_every_next_click_of_each_test_session() -> None:
    test = [
        Interaction("s", "a", "view", 1.0),
        Interaction("s", "b", "view", 2.0),
        Interaction("s", "c", "view", 3.0),
    ]
    split = temporal([Interaction("t", "x", "view", 0.0)], test)
    assert split.cases == [([("a", 1.0)], "b"), ([("a", 1.0), ("b", 2.0)], "c")]
    assert sequences(test)["s"][0].item_id == "a"


def test_the_public_files_load_with_their_published_sizes() -> None:
    beauty = load(shared_data("amazon-beauty-5core") / "Beauty.txt", "sequences")
    assert (len(beauty), len({i.user_id for i in beauty}), len({i.item_id for i in beauty})) == (
        198_502,
        22_363,
        12_101,
    )
    games = load(shared_data("amazon-games-sasrec") / "Video.txt", "pairs")
    assert (len(games), len({i.user_id for i in games}), len({i.item_id for i in games})) == (
        287_107,
        31_013,
        23_715,
    )


def test_hold_out_last_takes_each_recent_shoppers_last_interaction_for_validation() -> None:
    from recommender.data import hold_out_last

    seen = [
        Interaction("a", "1", "view", 1.0),
        Interaction("a", "2", "view", 9.0),  # recent: held out
        Interaction("b", "3", "view", 2.0),
        Interaction("b", "4", "view", 3.0),  # not recent: trains
        Interaction("c", "5", "view", 9.5),  # recent but alone: nothing to predict it from
    ]
    train, valid = hold_out_last(seen, since=5.0)
    assert valid == [([("1", 1.0)], "2")]
    assert sorted(i.item_id for i in train) == ["1", "3", "4", "5"]


def test_temporal_holds_out_the_latest_training_sessions_for_validation() -> None:
    train = [
        Interaction(f"s{n}", item, "view", 100.0 * n + offset)
        for n in range(10)
        for offset, item in enumerate(["a", "b", "c"])
    ]
    split = temporal(train, [Interaction("t", "a", "view", 5000.0)])
    # s9 started last: its next clicks validate, and it is not trained on.
    assert split.valid == [([("a", 900.0)], "b"), ([("a", 900.0), ("b", 901.0)], "c")]
    assert {i.user_id for i in split.train} == {f"s{n}" for n in range(9)}
