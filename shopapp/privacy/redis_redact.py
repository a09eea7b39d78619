"""The Redis half of customers/redact and shop/redact, driven by the declared key families
(shopapp/rediskeys.py) rather than by key formats copied here: a family's scope says whose its
keys are, so a family is redacted from the day it is declared, and one whose values name shoppers
cannot be declared without this module knowing how to scrub it (customers/redact refuses to run).
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import re
from collections.abc import Sequence
from typing import Protocol, cast

import redis

from shopapp.events import keys as events_keys
from shopapp.events.keys import ADDRESS_VISITORS, REJECTIONS, STREAM
from shopapp.events.stream import GROUP, visitor_digest
from shopapp.recs import keys as recs_keys
from shopapp.rediskeys import KeyFamily, Scope, declared, shop_pattern
from shopapp.shopify import keys as shopify_keys
from shopapp.shops import keys as shops_keys

# Every domain's key module, so `declared()` lists every family (a test checks none is missing).
KEY_MODULES = (events_keys, recs_keys, shopify_keys, shops_keys)


def shopper_keys_delete(
    *, r: redis.Redis, shop: str, ids: Sequence[str], event_ids: Sequence[str], needles: set[str]
) -> int:
    """Every key of a SHOPPER family for each of the ids, of an EVENT family for each of their
    event ids, and their traces in the families whose values name shoppers (found by `needles`,
    how they may appear in text). Returns how many keys and entries went."""
    scrubs = [_scrubber(family) for family in declared() if family.holds_shoppers]
    keys = [
        key
        for family in declared(Scope.SHOPPER)
        for user in ids
        for key in _keys(r, family, shop=shop, user=user)
    ]
    keys += [
        key
        for family in declared(Scope.EVENT)
        for event_id in event_ids
        for key in _keys(r, family, shop=shop, event_id=event_id)
    ]
    deleted = 0
    for start in range(0, len(keys), 500):
        deleted += int(r.delete(*keys[start : start + 500]))
    return deleted + sum(scrub(r=r, shop=shop, ids=ids, needles=needles) for scrub in scrubs)


def _keys(r: redis.Redis, family: KeyFamily, **parts: str) -> list[str]:
    """The family's keys with these parts: built when the parts name the key, else found by SCAN
    and checked part by part (a glob's `*` also matches the colons of a shopper id)."""
    if len(parts) == len(family.parts):
        return [family.key(**parts)]
    return [
        key
        for key in r.scan_iter(match=family.pattern(**parts), count=1000)
        if (found := family.match(key)) is not None
        and all(found[name] == value for name, value in parts.items())
    ]


class _Scrub(Protocol):
    def __call__(
        self, *, r: redis.Redis, shop: str, ids: Sequence[str], needles: set[str]
    ) -> int: ...


def _visitors_forget(*, r: redis.Redis, shop: str, ids: Sequence[str], needles: set[str]) -> int:
    """The new-visitor cap's memory of which visitor ids each address brought (an hour's worth,
    as digests: a known id's digest is still theirs)."""
    digests = [visitor_digest(i) for i in ids]
    if not digests:
        return 0
    return sum(
        int(r.zrem(key, *digests))
        for key in r.scan_iter(match=ADDRESS_VISITORS.pattern(shop=shop), count=1000)
    )


# A base64 field of a kept rejected event (`ue_px`, `cx`), possibly cut short by the truncation.
_B64_FIELD_RE = re.compile(r'"(?:ue_px|cx)"\s*:\s*"([A-Za-z0-9+/_=-]+)')


def _rejections_scrub(*, r: redis.Redis, shop: str, ids: Sequence[str], needles: set[str]) -> int:
    """Remove every kept rejected event that mentions the person, in its text or inside its
    base64 fields (which a plain text search cannot see)."""
    if not needles:
        return 0
    key = REJECTIONS.key(shop=shop)
    removed = 0
    for row in cast(list[str], r.lrange(key, 0, -1)):
        text = row.lower() + " ".join(_b64_texts(row)).lower()
        if any(needle in text for needle in needles):
            removed += int(r.lrem(key, 0, row))
    return removed


def _b64_texts(row: str) -> list[str]:
    # The row is JSON holding the event as (escaped) JSON text: unescape once to see the fields.
    plain = row.replace('\\"', '"')
    texts = []
    for encoded in _B64_FIELD_RE.findall(plain):
        usable = encoded[: len(encoded) - len(encoded) % 4] if len(encoded) % 4 == 1 else encoded
        with contextlib.suppress(binascii.Error, ValueError):
            padded = usable + "=" * (-len(usable) % 4)
            texts.append(
                base64.urlsafe_b64decode(padded.replace("+", "-").replace("/", "_")).decode(
                    "utf-8", "replace"
                )
            )
    return texts


# How a person leaves each family whose values name shoppers though its keys do not.
SCRUBBERS: dict[KeyFamily, _Scrub] = {
    ADDRESS_VISITORS: _visitors_forget,
    REJECTIONS: _rejections_scrub,
}


def _scrubber(family: KeyFamily) -> _Scrub:
    try:
        return SCRUBBERS[family]
    except KeyError:
        raise LookupError(
            f"{family.format} holds shoppers' data and nothing in {__name__} removes it"
        ) from None


def shop_keys_delete(*, r: redis.Redis, shop: str) -> int:
    """Every key of the shop (each non-global family lives under its prefix: rediskeys checks
    every declaration) and its batches still waiting in the event log."""
    deleted = 0
    batch: list[str] = []
    for key in r.scan_iter(match=shop_pattern(shop), count=1000):
        batch.append(key)
        if len(batch) >= 500:
            deleted += int(r.unlink(*batch))
            batch = []
    if batch:
        deleted += int(r.unlink(*batch))
    # Each event-log entry is one shop's batch.
    entries = cast(list[tuple[str, dict[str, str]]], r.xrange(STREAM))
    stale = [entry_id for entry_id, fields in entries if fields.get("shop") == shop]
    if stale:
        r.xack(STREAM, GROUP, *stale)
        r.xdel(STREAM, *stale)
        deleted += len(stale)
    return deleted
