"""Interaction data: loaders for our export format and the public benchmark formats, and splits.

Every loader returns plain `Interaction` records (user, item, kind, unix seconds). Formats:
- `interactions`: CSV or JSON Lines with `user_id,item_id,interaction_type,timestamp` (ours).
- `sequences`: one line per user, `user item item …` in time order (S3-Rec/ICLRec Beauty).
- `pairs`: one line per interaction, `user item`, grouped by user in time order (SASRec Video).
- `sessions`: tab-separated `SessionId ItemId Time` with a header (session-rec's YOOCHOOSE).
- `diginetica`: `session_id;user_id;item_id;timeframe;eventdate` (CIKM Cup 2016).
Files without timestamps get the position in the user's sequence as the time (in seconds), so
order is kept and time features degrade to "one step per action"; callers that need real time
gaps should use a format that has them.
"""

from __future__ import annotations

import csv
import json
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from recommender.types import Interaction

FORMATS = ("interactions", "sequences", "pairs", "sessions", "diginetica")


def load(path: Path, fmt: str) -> list[Interaction]:
    """Every interaction of the file, in the file's order."""
    readers = {
        "interactions": _interactions,
        "sequences": _sequences,
        "pairs": _pairs,
        "sessions": _sessions,
        "diginetica": _diginetica,
    }
    if fmt not in readers:
        raise ValueError(f"unknown format {fmt!r}; known: {', '.join(FORMATS)}")
    return list(readers[fmt](path))


def _timestamp(raw: str) -> float:
    try:
        return float(raw)
    except ValueError:
        return datetime.fromisoformat(raw.replace("Z", "+00:00")).astimezone(UTC).timestamp()


def _interactions(path: Path) -> Iterator[Interaction]:
    with path.open(encoding="utf-8-sig") as f:
        if path.suffix in (".jsonl", ".ndjson", ".json"):
            rows: Iterable[dict[str, object]] = (json.loads(line) for line in f if line.strip())
        else:
            rows = csv.DictReader(f)
        for row in rows:
            yield Interaction(
                user_id=str(row["user_id"]),
                item_id=str(row["item_id"]),
                interaction=str(row.get("interaction_type") or "view"),
                ts=_timestamp(str(row["timestamp"])),
            )


def _sequences(path: Path) -> Iterator[Interaction]:
    with path.open(encoding="utf-8") as f:
        for line in f:
            parts = line.split()
            if len(parts) < 2:
                continue
            user, items = parts[0], parts[1:]
            for position, item in enumerate(items):
                yield Interaction(
                    user_id=user, item_id=item, interaction="view", ts=float(position)
                )


def _pairs(path: Path) -> Iterator[Interaction]:
    position: dict[str, int] = defaultdict(int)
    with path.open(encoding="utf-8") as f:
        for line in f:
            parts = line.split()
            if len(parts) != 2:
                continue
            user, item = parts
            yield Interaction(
                user_id=user, item_id=item, interaction="view", ts=float(position[user])
            )
            position[user] += 1


def _sessions(path: Path) -> Iterator[Interaction]:
    with path.open(encoding="utf-8") as f:
        reader = csv.DictReader(f, delimiter="\t")
        for row in reader:
            yield Interaction(
                user_id=row["SessionId"],
                item_id=row["ItemId"],
                interaction="view",
                ts=float(row["Time"]),
            )


def _diginetica(path: Path) -> Iterator[Interaction]:
    with path.open(encoding="utf-8") as f:
        reader = csv.DictReader(f, delimiter=";")
        for row in reader:
            day = datetime.fromisoformat(row["eventdate"]).replace(tzinfo=UTC).timestamp()
            yield Interaction(
                user_id=row["session_id"],
                item_id=row["item_id"],
                interaction="view",
                ts=day + int(row["timeframe"]) / 1000,
            )


def sequences(interactions: Iterable[Interaction]) -> dict[str, list[Interaction]]:
    """Each user's interactions in time order (stable: file order breaks ties)."""
    by_user: dict[str, list[Interaction]] = defaultdict(list)
    for it in interactions:
        by_user[it.user_id].append(it)
    for events in by_user.values():
        events.sort(key=lambda e: e.ts)
    return dict(by_user)


@dataclass(frozen=True, slots=True)
class Split:
    train: list[Interaction]
    # One case per evaluated user: their history before the target, and the target item.
    cases: list[tuple[list[tuple[str, float]], str]]


def leave_one_out(interactions: Iterable[Interaction], *, min_length: int = 3) -> Split:
    """SASRec's protocol: each user's last item is the test target, the one before it is held out
    for validation (not trained on), everything earlier is training data."""
    train: list[Interaction] = []
    cases = []
    for events in sequences(interactions).values():
        if len(events) < min_length:
            train += events
            continue
        train += events[:-2]
        history = [(e.item_id, e.ts) for e in events[:-1]]
        cases.append((history, events[-1].item_id))
    return Split(train=train, cases=cases)


def temporal(train: Sequence[Interaction], test: Sequence[Interaction]) -> Split:
    """A given train/test split in time (YOOCHOOSE's last day): each test session predicts its
    every next click from the clicks before it (session-rec's protocol), trained on `train`."""
    cases = []
    for events in sequences(test).values():
        for n in range(1, len(events)):
            cases.append(([(e.item_id, e.ts) for e in events[:n]], events[n].item_id))
    return Split(train=list(train), cases=cases)
