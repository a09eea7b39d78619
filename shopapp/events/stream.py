"""The event log: a Redis Stream between the collector and the ingest workers.

The collector appends each accepted batch with one Lua call that also counts the rate limits, so an
event costs the web process one round trip. A consumer (workers/consumer.py) reads the stream in
a consumer group and hands the batches to Celery; an entry is acknowledged only after its task is
queued, so a consumer that dies leaves its entries pending for another to claim (at least once; the
ingest task is idempotent).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

import redis

STREAM = "ss:events"
GROUP = "ingest"
RATE_WINDOW_S = 60

# KEYS: stream, shop rate key, one rate key per shopper.
# ARGV: per-shop limit, per-shopper limit, window seconds, retry-after, payload, shop, then the
# count of events for the shop followed by one count per shopper (same order as their keys).
_APPEND = """
local shop_n = tonumber(ARGV[7])
local over = redis.call('INCRBY', KEYS[2], shop_n) > tonumber(ARGV[1])
redis.call('EXPIRE', KEYS[2], ARGV[3] * 2)
for i = 3, #KEYS do
  if redis.call('INCRBY', KEYS[i], tonumber(ARGV[5 + i])) > tonumber(ARGV[2]) then over = true end
  redis.call('EXPIRE', KEYS[i], ARGV[3] * 2)
end
if over then return tonumber(ARGV[4]) end
redis.call('XADD', KEYS[1], '*', 'shop', ARGV[6], 'batch', ARGV[5])
return 0
"""


@dataclass(frozen=True, slots=True)
class Batch:
    """One collector request's accepted events, as the ingest task receives them."""

    shop: str
    events: list[dict[str, Any]]  # raw tracker events, every value a string
    received_at: float


def rate_key(shop: str, minute: int | str) -> str:
    """The shop's event count in that minute; `{rate_key}:{shopper}` counts one shopper's."""
    return f"ss:{shop}:rate:{minute}"


def events_append(
    *,
    r: redis.Redis,
    batch: Batch,
    per_shopper: Mapping[str, int],
    shop_limit: int,
    shopper_limit: int,
) -> int | None:
    """Append a batch unless it breaks a rate limit; None when appended, else retry-after (s)."""
    minute = int(batch.received_at // RATE_WINDOW_S)
    shop_key = rate_key(batch.shop, minute)
    shoppers = list(per_shopper.items())
    keys = [STREAM, shop_key, *(f"{shop_key}:{who}" for who, _ in shoppers)]
    retry_after = RATE_WINDOW_S - int(batch.received_at % RATE_WINDOW_S)
    payload = json.dumps({"events": batch.events, "received_at": batch.received_at})
    args: list[str | int] = [
        shop_limit,
        shopper_limit,
        RATE_WINDOW_S,
        retry_after,
        payload,
        batch.shop,
        sum(per_shopper.values()),
        *(n for _, n in shoppers),
    ]
    result = int(r.eval(_APPEND, len(keys), *keys, *args))
    return result or None


def batch_decode(fields: Mapping[str, str]) -> Batch:
    payload = json.loads(fields["batch"])
    return Batch(
        shop=fields["shop"], events=payload["events"], received_at=float(payload["received_at"])
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
