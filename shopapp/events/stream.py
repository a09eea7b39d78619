"""The event log: a Redis Stream between the collector and the ingest workers.

The collector appends each accepted batch with one Lua call that also checks and counts the limits
(per shop, per client address, per shopper, new visitor ids per address), so an event costs the
web process one round trip. A consumer (workers/consumer.py) reads the stream in
a consumer group and hands the batches to Celery; an entry is acknowledged only after its task is
queued, so a consumer that dies leaves its entries pending for another to claim (at least once; the
ingest task is idempotent).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

import redis

from shopapp.events.keys import (
    RATE_TTL_S,
    RATE_WINDOW_S,
    STREAM,
    VISITOR_WINDOW_S,
    address_rate_key,
    address_visitors_key,
    rate_key,
    shopper_rate_key,
)

GROUP = "ingest"

# KEYS: [1] stream, [2] shop counter, [3] address counter, [4] the address's visitor ids (sorted
# set: digest of the id -> last seen), then one counter per shopper.
# ARGV: [1] payload, [2] shop, [3] now, [4] rate window (s), [5] visitor window (s), [6] shop
# limit, [7] address limit ('' when the address is unknown: no address limits), [8] shopper limit,
# [9] new-visitor cap, [10] events, [11] rate counters' TTL (s), [12] V, then V visitor ids, then
# one count per shopper key.
# Every limit is checked before anything is counted: a refused request counts nothing, so a client
# held at a limit recovers in the next window and cannot push the shop's other clients over.
_APPEND = """
local now, window, events = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[10])
local by_address, rate_ttl, v = ARGV[7] ~= '', ARGV[11], tonumber(ARGV[12])
local counts = redis.call('MGET', unpack(KEYS, 2))  -- shop, address, (visitors), shoppers
local refused, retry = false, window - math.floor(now % window)
if tonumber(counts[1] or 0) + events > tonumber(ARGV[6]) then refused = 'shop' end
if not refused and by_address and tonumber(counts[2] or 0) + events > tonumber(ARGV[7]) then
  refused = 'address'
end
for i = 5, #KEYS do
  if refused then break end
  if tonumber(counts[i - 1] or 0) + tonumber(ARGV[12 + v + i - 4]) > tonumber(ARGV[8]) then
    refused = 'shopper'
  end
end
if not refused and by_address and v > 0 then
  local span = tonumber(ARGV[5])
  redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', now - span)
  local new = 0
  for _, score in ipairs(redis.call('ZMSCORE', KEYS[4], unpack(ARGV, 13, 12 + v))) do
    if not score then new = new + 1 end
  end
  if new > 0 and redis.call('ZCARD', KEYS[4]) + new > tonumber(ARGV[9]) then
    refused = 'new_visitors'
    local oldest = redis.call('ZRANGE', KEYS[4], 0, 0, 'WITHSCORES')[2]
    retry = math.max(1, math.ceil(tonumber(oldest or now) + span - now))
  end
end
if refused then return {refused, retry} end
redis.call('INCRBY', KEYS[2], events)
redis.call('EXPIRE', KEYS[2], rate_ttl)
if by_address then
  redis.call('INCRBY', KEYS[3], events)
  redis.call('EXPIRE', KEYS[3], rate_ttl)
  if v > 0 then
    local members = {}
    for i = 13, 12 + v do
      members[#members + 1] = now
      members[#members + 1] = ARGV[i]
    end
    redis.call('ZADD', KEYS[4], unpack(members))
    redis.call('EXPIRE', KEYS[4], ARGV[5])
  end
end
for i = 5, #KEYS do
  redis.call('INCRBY', KEYS[i], ARGV[12 + v + i - 4])
  redis.call('EXPIRE', KEYS[i], rate_ttl)
end
redis.call('XADD', KEYS[1], '*', 'shop', ARGV[2], 'batch', ARGV[1])
return 0
"""


@dataclass(frozen=True, slots=True)
class Batch:
    """One collector request's accepted events, as the ingest task receives them."""

    shop: str
    events: list[dict[str, Any]]  # raw tracker events, every value a string
    received_at: float
    # The logged-in customer (`c:<id>`) when Shopify signed the request (the app proxy), else
    # None. The only way a customer enters the pipeline from a browser: events' own `uid` is never
    # read (shopapp/events/identity.py).
    customer: str | None = None


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why a batch was not appended: which limit (`shop`, `address`, `shopper`,
    `new_visitors`) and when a retry can pass it (seconds)."""

    limit: str
    retry_after: int


def events_append(
    *,
    r: redis.Redis,
    batch: Batch,
    per_shopper: Mapping[str, int],
    shop_limit: int,
    shopper_limit: int,
    address: str | None = None,
    visitors: Collection[str] = (),
    address_limit: int = 0,
    new_visitor_limit: int = 0,
) -> Refusal | None:
    """Append a batch unless it breaks a limit (then nothing is counted); None when appended.

    With an `address`, that address's events a minute are limited too, and so are the distinct
    `visitors` (ids) it brings in VISITOR_WINDOW_S: a returning one always passes, a new one
    past `new_visitor_limit` refuses the batch.
    """
    minute = int(batch.received_at // RATE_WINDOW_S)
    shoppers = list(per_shopper.items())
    where = address or "-"
    keys = [
        STREAM,
        rate_key(batch.shop, minute),
        address_rate_key(batch.shop, minute, where),
        address_visitors_key(batch.shop, where),
        *(shopper_rate_key(batch.shop, minute, who) for who, _ in shoppers),
    ]
    payload = json.dumps(
        {"events": batch.events, "received_at": batch.received_at, "customer": batch.customer}
    )
    ids = sorted({visitor_digest(v) for v in visitors}) if address is not None else []
    args: list[str | int | float] = [
        payload,
        batch.shop,
        batch.received_at,
        RATE_WINDOW_S,
        VISITOR_WINDOW_S,
        shop_limit,
        address_limit if address is not None else "",
        shopper_limit,
        new_visitor_limit,
        sum(per_shopper.values()),
        RATE_TTL_S,
        len(ids),
        *ids,
        *(n for _, n in shoppers),
    ]
    result = r.register_script(_APPEND)(keys=keys, args=args)  # EVALSHA: the text is loaded once
    if result == 0:
        return None
    limit, retry_after = cast(list[Any], result)
    name = limit.decode() if isinstance(limit, bytes) else str(limit)
    return Refusal(limit=name, retry_after=int(retry_after))


def visitor_digest(visitor_id: str) -> str:
    """What an address's visitor set holds for a visitor id: a digest, not the id. Counting
    distinct ids needs no more, and a redacted visitor's id then leaves no trace there."""
    return hashlib.blake2b(visitor_id.encode(), digest_size=8, person=b"ss-visitors").hexdigest()


def batch_decode(fields: Mapping[str, str]) -> Batch:
    payload = json.loads(fields["batch"])
    return Batch(
        shop=fields["shop"],
        events=payload["events"],
        received_at=float(payload["received_at"]),
        customer=payload.get("customer"),
    )


def stream_group_ensure(*, r: redis.Redis) -> None:
    try:
        r.xgroup_create(STREAM, GROUP, id="0", mkstream=True)
    except redis.ResponseError as exc:
        if "BUSYGROUP" not in str(exc):
            raise


def stream_read(
    *, r: redis.Redis, consumer: str, count: int, block_ms: int | None
) -> list[tuple[str, Batch]]:
    """New entries for this consumer; waits up to block_ms for some (None: returns at once)."""
    reply = cast(
        list[tuple[str, list[tuple[str, dict[str, str]]]]] | None,
        r.xreadgroup(GROUP, consumer, {STREAM: ">"}, count=count, block=block_ms),
    )
    return [
        (entry_id, batch_decode(fields))
        for _, entries in reply or []
        for entry_id, fields in entries
    ]


def stream_claim_stale(
    *, r: redis.Redis, consumer: str, idle_ms: int, count: int
) -> list[tuple[str, Batch]]:
    """Entries another consumer read but never acknowledged (it died): take them over."""
    reply = r.xautoclaim(
        STREAM, GROUP, consumer, min_idle_time=idle_ms, start_id="0-0", count=count
    )
    entries: list[tuple[str, dict[str, str] | None]] = reply[1]
    return [(entry_id, batch_decode(fields)) for entry_id, fields in entries if fields]


def stream_ack(*, r: redis.Redis, entry_ids: Sequence[str]) -> None:
    """Acknowledge and delete: an entry whose task is queued is no longer needed here."""
    if entry_ids:
        pipe = r.pipeline(transaction=False)
        pipe.xack(STREAM, GROUP, *entry_ids)
        pipe.xdel(STREAM, *entry_ids)
        pipe.execute()
