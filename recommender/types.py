"""The plain records every model consumes and produces."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Interaction:
    """One shopper-product interaction: the standard record minus shop and event-id provenance.

    ``interaction`` is "view", "cart" or "purchase"; other kinds (rec impressions, clicks) may
    flow through and are ignored by models. ``ts`` is unix seconds, UTC.
    """

    user_id: str
    item_id: str
    interaction: str
    ts: float


@dataclass(frozen=True, slots=True)
class Scored:
    """A recommended item with the model's score (higher is better)."""

    item_id: str
    score: float
