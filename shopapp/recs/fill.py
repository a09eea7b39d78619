"""The fill chain: how a shopper's list is topped up so it is never short (the one definition).

Order: the shopper's own list (the model's), then products co-visited with what is in front of them
(their window when the list is computed, the product on the page when it is served), then trending
now, then popular. Each product is taken once, from the first list that has it. The lists are
plain data: the compute-time caller (recs/services.py) reads them with the shopper's window and
their database exclusions; the serve-time caller (recs/serving.py) reads them in one Redis round
trip and filters by what the catalogue can show, because a request must not wait on more.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass

from recommender.covisit import covisit_neighbours
from recommender.types import Scored
from shopapp.recs.store import StoredRecs

COVISIT, TRENDING, POPULAR = "covisit", "trending", "popular"


@dataclass(frozen=True, slots=True)
class Pick:
    item_id: str
    score: float  # the score its list gave it
    source: str  # the list's name: the own list's `source`, or COVISIT, TRENDING, POPULAR
    origin: StoredRecs  # the list it came from (its model version and time)


def fill_chain(
    *,
    own: StoredRecs | None,
    covisit: StoredRecs | None,
    trending: StoredRecs | None,
    popular: StoredRecs | None,
    exclude: Collection[str],
) -> list[Pick]:
    """Every candidate in the chain's order, each once, none of `exclude`. The caller takes as
    many as its list holds (after any filter of its own, which keeps the order)."""
    chain = [
        (own.source if own is not None else "", own),
        (COVISIT, covisit),
        (TRENDING, trending),
        (POPULAR, popular),
    ]
    taken = set(exclude)
    picks: list[Pick] = []
    for name, stored in chain:
        if stored is None:
            continue
        for item, score in zip(stored.items, stored.scores, strict=False):
            if item not in taken:
                taken.add(item)
                picks.append(Pick(item_id=item, score=score, source=name, origin=stored))
    return picks


def covisit_list(
    table: Mapping[str, Sequence[tuple[str, float]]], items: Sequence[str]
) -> StoredRecs:
    """The chain's co-visitation list for the given items (the latest last): their neighbours
    merged, the latest item's first, the items themselves left out."""
    scored = {item: [Scored(item_id=i, score=s) for i, s in table.get(item, ())] for item in items}
    # Every neighbour is kept: the chain's exclusions and the caller's filter come after, so a cut
    # here could drop a product the list then lacks.
    everything = sum(len(ns) for ns in scored.values())
    merged = covisit_neighbours(scored, items, k=everything, exclude=set())
    return StoredRecs(
        items=[s.item_id for s in merged],
        scores=[s.score for s in merged],
        model_version=COVISIT,
        source=COVISIT,
        computed_at=0.0,
    )


def sources_joined(names: Iterable[str]) -> str:
    """The `source` of a filled list: the names of the lists it draws on, in order, each once."""
    return "+".join(dict.fromkeys(names))
