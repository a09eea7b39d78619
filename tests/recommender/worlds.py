"""Small synthetic worlds the recommender tests train on."""

from __future__ import annotations

import random

from recommender.types import Interaction


def ring_world(
    *, n_items: int = 12, users: int = 150, length: int = 8, seed: int = 0
) -> list[Interaction]:
    """Every shopper walks a ring of items from a random start: after item i always comes item
    i + 1, a minute apart."""
    rng = random.Random(seed)
    out = []
    for u in range(users):
        start = rng.randrange(n_items)
        for step in range(length):
            item = f"i{(start + step) % n_items}"
            out.append(Interaction(f"u{u}", item, "view", 1000.0 + 60 * step))
    return out
