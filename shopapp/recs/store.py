"""The recommendation store: each shopper's current top-K in Redis, as serving reads it."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import cast

import redis

from shopapp.events.identity import is_visitor
from shopapp.recs.keys import (
    COVISIT_TTL_S,
    FRESHNESS_SAMPLES,
    PUBLISH_CLAIM_TTL_S,
    RECS_TTL_S,
    REFRESH_CLAIM_TTL_S,
    TRENDING_TTL_S,
    VISITOR_RECS_TTL_S,
    covisit_key,
    covisit_staging_key,
    freshness_key,
    popular_key,
    publish_claim_key,
    recs_key,
    refresh_claim_key,
    served_key,
    trending_key,
)


@dataclass(frozen=True, slots=True)
class StoredRecs:
    items: list[str]
    scores: list[float]
    model_version: str
    source: str  # which recommender produced it: "model:<kind>", "popular", ...
    computed_at: float


# Publishing to Shopify coalesces like a refresh, over a longer delay: a metaobject upsert costs
# Shopify points, and a customer's list changes with every product they look at.
PUBLISH_DELAY_S = 5


def _claim(r: redis.Redis, keys: Sequence[str], users: Sequence[str], ttl_s: int) -> list[str]:
    """The users whose key was not set yet (their work is not queued); sets it. One trip."""
    pipe = r.pipeline(transaction=False)
    for key in keys:
        pipe.set(key, 1, nx=True, ex=ttl_s)
    return [user for user, claimed in zip(users, pipe.execute(), strict=True) if claimed]


def refresh_claim(*, r: redis.Redis, shop: str, users: Sequence[str]) -> list[str]:
    """The shoppers whose recommendation refresh is not already queued; claims them.

    A burst of events for one shopper then costs one inference, not one per batch.
    """
    keys = [refresh_claim_key(shop, u) for u in users]
    return _claim(r, keys, users, REFRESH_CLAIM_TTL_S)


def refresh_release(*, r: redis.Redis, shop: str, user_ids: Sequence[str]) -> None:
    """Called as a refresh starts: events from now on need (and will queue) another one."""
    if user_ids:
        r.delete(*(refresh_claim_key(shop, u) for u in user_ids))


def publish_claim(*, r: redis.Redis, shop: str, users: Sequence[str]) -> list[str]:
    """The shoppers whose metaobject publish is not already queued; claims them."""
    return _claim(r, [publish_claim_key(shop, u) for u in users], users, PUBLISH_CLAIM_TTL_S)


def publish_release(*, r: redis.Redis, shop: str, user_ids: Sequence[str]) -> None:
    if user_ids:
        r.delete(*(publish_claim_key(shop, u) for u in user_ids))


def recs_write(*, r: redis.Redis, shop: str, user_id: str, recs: StoredRecs) -> None:
    recs_write_many(r=r, shop=shop, recs={user_id: recs})


def recs_write_many(*, r: redis.Redis, shop: str, recs: dict[str, StoredRecs]) -> None:
    pipe = r.pipeline(transaction=False)
    for user_id, stored in recs.items():
        ttl = VISITOR_RECS_TTL_S if is_visitor(user_id) else RECS_TTL_S
        pipe.set(recs_key(shop, user_id), json.dumps(asdict(stored)), ex=ttl)
    pipe.execute()


def recs_read(*, r: redis.Redis, shop: str, user_id: str) -> StoredRecs | None:
    return stored_parse(r.get(recs_key(shop, user_id)))


def popular_write(*, r: redis.Redis, shop: str, recs: StoredRecs) -> None:
    """The shop-wide list served to shoppers who have none of their own yet."""
    r.set(popular_key(shop), json.dumps(asdict(recs)), ex=RECS_TTL_S)


def popular_read(*, r: redis.Redis, shop: str) -> StoredRecs | None:
    return stored_parse(r.get(popular_key(shop)))


def stored_parse(raw: object) -> StoredRecs | None:
    return StoredRecs(**json.loads(str(raw))) if raw is not None else None


def trending_write(*, r: redis.Redis, shop: str, recs: StoredRecs) -> None:
    """The shop's trending-now list (refreshed by beat every minute)."""
    r.set(trending_key(shop), json.dumps(asdict(recs)), ex=TRENDING_TTL_S)


def trending_read(*, r: redis.Redis, shop: str) -> StoredRecs | None:
    return stored_parse(r.get(trending_key(shop)))


def covisit_write(*, r: redis.Redis, shop: str, table: dict[str, list[tuple[str, float]]]) -> None:
    """Replace the shop's item-to-item table: one hash field per item, its neighbours as JSON."""
    key, staging = covisit_key(shop), covisit_staging_key(shop)
    pipe = r.pipeline(transaction=True)
    pipe.delete(staging)
    items = list(table.items())
    for start in range(0, len(items), 500):
        pipe.hset(staging, mapping={i: json.dumps(n) for i, n in items[start : start + 500]})
    if items:
        pipe.rename(staging, key)
        pipe.expire(key, COVISIT_TTL_S)
    else:
        pipe.delete(key)
    pipe.execute()


def covisit_read(
    *, r: redis.Redis, shop: str, items: Sequence[str]
) -> dict[str, list[tuple[str, float]]]:
    """The neighbours of the given items (those that have any)."""
    if not items:
        return {}
    values = cast(list[str | None], r.hmget(covisit_key(shop), list(items)))
    return {
        item: [(str(i), float(s)) for i, s in json.loads(raw)]
        for item, raw in zip(items, values, strict=True)
        if raw
    }


def freshness_record(*, r: redis.Redis, shop: str, seconds: float) -> None:
    """How long an accepted event took to change its shopper's list (newest samples kept)."""
    pipe = r.pipeline(transaction=False)
    pipe.lpush(freshness_key(shop), round(seconds * 1000, 1))
    pipe.ltrim(freshness_key(shop), 0, FRESHNESS_SAMPLES - 1)
    pipe.execute()


def freshness_samples(*, r: redis.Redis, shop: str) -> list[float]:
    """Milliseconds, newest first."""
    return [float(x) for x in cast(list[str], r.lrange(freshness_key(shop), 0, -1))]


def served_counts(*, r: redis.Redis, shop: str, hours: Sequence[int]) -> dict[int, int]:
    values = cast(list[str | None], r.mget([served_key(shop, h) for h in hours])) if hours else []
    return {h: int(v or 0) for h, v in zip(hours, values, strict=True)}
