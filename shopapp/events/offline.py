"""One row of the merchant's own export (CSV or JSON Lines) as an interaction record.

Reading the file is events/importing.py's business; this is what one row means: who (an imported
id, or the customer a Shopify GID names), which product, which interaction under the names other
systems use, and when. The row then passes `interaction_build` like every tracker event.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from shopapp.events.identity import IdentityError, imported_user
from shopapp.events.normalise import InteractionRecord, interaction_build
from shopapp.events.tp2 import EventError

OFFLINE_ALIASES = {
    "view": "view",
    "click": "view",
    "product_view": "view",
    "detail": "view",
    "cart": "cart",
    "add_to_cart": "cart",
    "addtocart": "cart",
    "purchase": "purchase",
    "buy": "purchase",
    "transaction": "purchase",
    "order": "purchase",
}


def offline_normalise(*, shop: str, row: Mapping[str, Any]) -> InteractionRecord:
    """One row of an offline export: `user_id,item_id,interaction_type,timestamp`.

    A `user_id` of `gid://shopify/Customer/<id>` is that customer; anything else (an email,
    another system's id) is an imported id (`i:…`): training data, never served to anyone.
    The event id is a digest of the row as written, so importing the same file twice adds nothing.
    """
    try:
        raw_user, item_id = row["user_id"], str(row["item_id"]).strip()
        kind_raw, ts_raw = str(row["interaction_type"]).strip().lower(), row["timestamp"]
    except KeyError as exc:
        raise EventError(f"missing column {exc.args[0]!r}") from None
    if raw_user is None or row["item_id"] is None or ts_raw is None:
        raise EventError("row has fewer columns than the header")
    try:
        user_id = imported_user(raw_user)
    except IdentityError as exc:
        raise EventError(str(exc)) from None
    kind = OFFLINE_ALIASES.get(kind_raw)
    if kind is None:
        raise EventError(f"unknown interaction_type {kind_raw!r}")
    ts = _offline_time(ts_raw)
    as_written = str(raw_user).strip()
    digest = hashlib.sha256(f"{shop}|{as_written}|{item_id}|{kind}|{ts}".encode()).hexdigest()
    return interaction_build(
        shop=shop,
        user_id=user_id,
        item_id=item_id,
        interaction=kind,
        ts=ts,
        event_id=f"imp-{digest[:32]}",
    )


def _offline_time(raw: Any) -> float:
    text = str(raw).strip()
    try:
        value = float(text)
    except ValueError:
        return _iso_time(text)
    return value / 1000 if value > 1e11 else value  # milliseconds vs seconds


def _iso_time(text: str) -> float:
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise EventError(f"unreadable timestamp {text!r}") from None
    if parsed.tzinfo is None:
        raise EventError("timestamp has no time zone")
    return parsed.timestamp()
