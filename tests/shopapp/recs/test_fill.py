"""The fill chain (recs/fill.py), the one order both computing and serving a list follow."""

from __future__ import annotations

from shopapp.recs.fill import Pick, covisit_list, fill_chain, sources_joined
from shopapp.recs.store import StoredRecs


def _list(items: list[str], source: str) -> StoredRecs:
    return StoredRecs(
        items=items,
        scores=[float(10 - n) for n in range(len(items))],
        model_version=f"{source}/1",
        source=source,
        computed_at=5.0,
    )


def test_the_chain_is_own_then_covisit_then_trending_then_popular_each_item_once() -> None:
    own = _list(["a", "b"], "model:sasrec")
    covisit = _list(["b", "c", "x"], "covisit")
    trending = _list(["c", "d"], "trending")
    popular = _list(["a", "e", "d", "f"], "popular")

    picks = fill_chain(own=own, covisit=covisit, trending=trending, popular=popular, exclude={"x"})

    # Each item from the first list that has it, with that list's score; x is excluded.
    assert picks == [
        Pick(item_id="a", score=10.0, source="model:sasrec", origin=own),
        Pick(item_id="b", score=9.0, source="model:sasrec", origin=own),
        Pick(item_id="c", score=9.0, source="covisit", origin=covisit),
        Pick(item_id="d", score=9.0, source="trending", origin=trending),
        Pick(item_id="e", score=9.0, source="popular", origin=popular),
        Pick(item_id="f", score=7.0, source="popular", origin=popular),
    ]
    assert sources_joined(p.source for p in picks) == "model:sasrec+covisit+trending+popular"


def test_a_missing_list_is_skipped_and_the_names_are_the_chains() -> None:
    # Popular's own source names the model that made it; in the chain it is "popular".
    popular = _list(["p"], "model:popularity")
    picks = fill_chain(own=None, covisit=None, trending=None, popular=popular, exclude=set())
    assert [(p.item_id, p.source) for p in picks] == [("p", "popular")]
    assert fill_chain(own=None, covisit=None, trending=None, popular=None, exclude=set()) == []


def test_covisit_list_ranks_the_latest_items_neighbours_first_and_leaves_the_items_out() -> None:
    table = {
        "old": [("n1", 3.0), ("new", 2.0), ("n2", 1.0)],
        "new": [("n2", 2.0), ("old", 1.0)],
    }
    listed = covisit_list(table, ["old", "new", "unknown"])
    # Weighted by recency: "unknown" (the latest) has no neighbours, "new" counts 1/2, "old" 1/3.
    assert listed.items == ["n2", "n1"]
    assert listed.scores == [2.0 / 2 + 1.0 / 3, 3.0 / 3]
    assert (listed.source, listed.model_version, listed.computed_at) == ("covisit", "covisit", 0.0)
