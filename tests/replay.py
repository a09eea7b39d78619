"""A real clickstream replayed as tracker traffic, and the windows it must leave behind.

The stream is the YOOCHOOSE test day in ../shared/data (sessions as shoppers); where that folder is
absent, the project's own synthetic store. Events carry their true time (`ttm`), so windows are
computed on the clickstream's own clock, exactly as they would be computed offline.
"""

from __future__ import annotations

import csv
import json
import uuid
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from shopapp.demo.tp2 import ACTION, CONTEXTS, PAYLOAD, PRODUCT, UNSTRUCT

YOOCHOOSE_TEST_DAY = "yoochoose-100k/yoochoose-clicks-100k_test.txt"
NAMESPACE = uuid.UUID("0d3c1c4e-7f55-4b5e-9a55-2f6b1f0f9a10")


@dataclass(frozen=True, slots=True)
class Click:
    user_id: str
    item_id: str
    ttm_ms: int
    eid: str


def _visitor(name: str) -> str:
    """A dataset's shopper as the pipeline knows them: a visitor with a UUID (`v:<uuid>`)."""
    return f"v:{uuid.uuid5(NAMESPACE, f'shopper|{name}')}"


def yoochoose_clicks(path: Path) -> list[Click]:
    with path.open(newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    return [
        Click(
            user_id=_visitor(f"s{r['SessionId']}"),
            item_id=r["ItemId"],
            ttm_ms=round(float(r["Time"]) * 1000),
            eid=str(uuid.uuid5(NAMESPACE, f"{n}|{r['SessionId']}|{r['ItemId']}|{r['Time']}")),
        )
        for n, r in enumerate(rows)
    ]


def synthetic_clicks() -> list[Click]:
    from recommender.synthetic import generate_store

    store = generate_store(n_shoppers=150, days=2)
    return [
        Click(
            user_id=_visitor(i.user_id),
            item_id=i.item_id,
            ttm_ms=round(i.ts * 1000),
            eid=str(uuid.uuid5(NAMESPACE, f"{n}|{i.user_id}")),
        )
        for n, i in enumerate(store.interactions)
        if i.interaction == "view"
    ]


def tp2_bodies(shop: str, clicks: Sequence[Click], per_request: int) -> Iterator[bytes]:
    """The clicks in time order as tracker POST bodies of `per_request` events (shoppers mixed,
    as a busy collector sees them)."""
    ordered = sorted(clicks, key=lambda c: c.ttm_ms)
    for start in range(0, len(ordered), per_request):
        events = [_event(shop, c) for c in ordered[start : start + per_request]]
        yield json.dumps({"schema": PAYLOAD, "data": events}).encode()


def _event(shop: str, click: Click) -> dict[str, str]:
    ue = {"schema": UNSTRUCT, "data": {"schema": ACTION, "data": {"type": "product_view"}}}
    co = {
        "schema": CONTEXTS,
        "data": [
            {
                "schema": PRODUCT,
                "data": {"id": click.item_id, "category": "c", "price": 1.0, "currency": "EUR"},
            }
        ],
    }
    return {
        "e": "ue",
        "eid": click.eid,
        "tv": "py-replay",
        "p": "srv",
        "aid": shop,
        "duid": click.user_id.removeprefix("v:"),
        "ttm": str(click.ttm_ms),
        "ue_pr": json.dumps(ue),
        "co": json.dumps(co),
    }


def expected_windows(
    clicks: Sequence[Click], *, window_s: int, max_events: int
) -> dict[str, list[tuple[str, float]]]:
    """Each shopper's window computed directly: within window_s of their newest click, at most
    max_events, in Redis's order (time, then member)."""
    by_user: dict[str, list[tuple[float, str, str]]] = defaultdict(list)
    for c in clicks:
        by_user[c.user_id].append((c.ttm_ms / 1000, f"{c.item_id}|view|{c.eid}", c.item_id))
    windows = {}
    for user, rows in by_user.items():
        rows = sorted(set(rows))
        newest = rows[-1][0]
        kept = [r for r in rows if r[0] >= newest - window_s][-max_events:]
        windows[user] = [(item, ts) for ts, _, item in kept]
    return windows
