"""The recommendation store: each shopper's current top-K in Redis, as serving reads it."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass

import redis

# A shopper's list lives a week after it was last computed; the app proxy falls back past that.
RECS_TTL_S = 7 * 24 * 3600


@dataclass(frozen=True, slots=True)
class StoredRecs:
    items: list[str]
    scores: list[float]
    model_version: str
    source: str  # which recommender produced it: "model:<kind>", "popular", ...
    computed_at: float


def recs_key(shop: str, user_id: str) -> str:
    return f"ss:{shop}:recs:{user_id}"


def popular_key(shop: str) -> str:
    return f"ss:{shop}:popular"


def recs_write(*, r: redis.Redis, shop: str, user_id: str, recs: StoredRecs) -> None:
    r.set(recs_key(shop, user_id), json.dumps(asdict(recs)), ex=RECS_TTL_S)


def recs_read(*, r: redis.Redis, shop: str, user_id: str) -> StoredRecs | None:
    return _parse(r.get(recs_key(shop, user_id)))


def popular_write(*, r: redis.Redis, shop: str, recs: StoredRecs) -> None:
    """The shop-wide list served to shoppers who have none of their own yet."""
    r.set(popular_key(shop), json.dumps(asdict(recs)), ex=RECS_TTL_S)


def popular_read(*, r: redis.Redis, shop: str) -> StoredRecs | None:
    return _parse(r.get(popular_key(shop)))


def _parse(raw: object) -> StoredRecs | None:
    return StoredRecs(**json.loads(str(raw))) if raw is not None else None
