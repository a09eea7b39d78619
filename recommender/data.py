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
import random
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
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


def sample_users(interactions: Sequence[Interaction], n: int, *, seed: int) -> list[Interaction]:
    """Every interaction of ``n`` users drawn at random (seeded), in their original order: a
    small shop's history cut from a large file."""
    if n < 1:
        raise ValueError(f"a sample needs at least one user, got {n}")
    users = sorted({i.user_id for i in interactions})
    kept = set(random.Random(seed).sample(users, min(n, len(users))))
    return [i for i in interactions if i.user_id in kept]


Case = tuple[list[tuple[str, float]], str]


@dataclass(frozen=True, slots=True)
class Split:
    train: list[Interaction]
    # One case per evaluated user: their history before the target, and the target item.
    cases: list[Case]
    # Cases for early stopping and model selection, never trained on, disjoint from `cases`.
    valid: list[Case]
    # The interactions `valid` holds out (loo: each shopper's second-to-last): `train` + `held`
    # is everything but the test targets, what a refit after model selection learns.
    held: list[Interaction] = field(default_factory=list)


def _next_clicks(events: Sequence[Interaction]) -> list[Case]:
    return [
        ([(e.item_id, e.ts) for e in events[:n]], events[n].item_id) for n in range(1, len(events))
    ]


def leave_one_out(interactions: Iterable[Interaction], *, min_length: int = 3) -> Split:
    """SASRec's protocol: each user's last item is the test target, the one before it is held out
    for validation (not trained on), everything earlier is training data."""
    train: list[Interaction] = []
    held: list[Interaction] = []
    cases = []
    valid = []
    for events in sequences(interactions).values():
        if len(events) < min_length:
            train += events
            continue
        train += events[:-2]
        held.append(events[-2])
        valid.append(([(e.item_id, e.ts) for e in events[:-2]], events[-2].item_id))
        cases.append(([(e.item_id, e.ts) for e in events[:-1]], events[-1].item_id))
    return Split(train=train, cases=cases, valid=valid, held=held)


def temporal(
    train: Sequence[Interaction], test: Sequence[Interaction], *, valid_share: float = 0.1
) -> Split:
    """A given train/test split in time (YOOCHOOSE's last day): each test session predicts its
    every next click from the clicks before it (session-rec's protocol). The latest-starting
    ``valid_share`` of the training sessions are held out for validation, the same way."""
    by_user = sorted(
        sequences(train).values(), key=lambda events: (events[0].ts, events[0].user_id)
    )
    n_valid = int(len(by_user) * valid_share)
    kept = by_user[: len(by_user) - n_valid]
    valid = [case for events in by_user[len(kept) :] for case in _next_clicks(events)]
    cases = [case for events in sequences(test).values() for case in _next_clicks(events)]
    return Split(
        train=[e for events in kept for e in events],
        cases=cases,
        valid=valid,
        held=[e for events in by_user[len(kept) :] for e in events],
    )


def hold_out_last(
    interactions: Iterable[Interaction], *, since: float
) -> tuple[list[Interaction], list[Case]]:
    """For early stopping on a live log: each shopper whose last interaction is at or after
    ``since`` (and who has one before it) gives it up as a validation case; the rest trains."""
    train: list[Interaction] = []
    valid: list[Case] = []
    for events in sequences(interactions).values():
        if len(events) > 1 and events[-1].ts >= since:
            valid.append(([(e.item_id, e.ts) for e in events[:-1]], events[-1].item_id))
            train += events[:-1]
        else:
            train += events
    return train, valid
