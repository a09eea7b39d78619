"""The event-log consumer: moves collector batches from the Redis Stream into Celery ingest tasks.

    python -m workers.consumer        (run one or more; they share the work as a consumer group)

Each read takes up to READ_COUNT entries, merges them per shop into one task (so a busy shop costs
one task per read, not one per HTTP request: Celery tops out near 550 tasks/s on a 2-core box), and
acknowledges the entries only once the tasks are queued. Entries a dead consumer left unacknowledged
are claimed after STALE_MS. SIGTERM/SIGINT stop it after the current read.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import time
from collections import Counter, defaultdict
from types import FrameType

import django
from kombu.exceptions import OperationalError
from redis.exceptions import RedisError, ResponseError

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shopapp.settings")

READ_COUNT = 500
LINGER_S = 0.02
# While the workers hold this many pipeline tasks or more (queued or running), keep reading into
# the same task, for at most LINGER_MAX_S (shopapp/events/backpressure.py). More tasks than the
# workers' processes (the deployment's 2, docs/operations.md) means some wait in the queue.
BUSY_TASKS = int(os.environ.get("SLIPSTREAM_CONSUMER_BUSY_TASKS", 3))
LINGER_MAX_S = 0.1
LINGER_POLL_S = 0.005
BLOCK_MS = 1000
STALE_MS = int(os.environ.get("SLIPSTREAM_CONSUMER_STALE_MS", 30_000))
CLAIM_EVERY_S = 10.0
log = logging.getLogger("workers.consumer")


def consume_once(*, consumer: str, claim: bool = False) -> int:
    """One read (or one claim of stale entries) dispatched and acknowledged; returns entries."""
    from shopapp.events.backpressure import task_queued, tasks_in_flight
    from shopapp.events.stream import stream_ack, stream_claim_stale, stream_read
    from shopapp.redis import get_redis
    from workers.tasks import tracker_events_ingest

    r = get_redis()
    if claim:
        entries = stream_claim_stale(r=r, consumer=consumer, idle_ms=STALE_MS, count=READ_COUNT)
    else:
        entries = stream_read(r=r, consumer=consumer, count=READ_COUNT, block_ms=BLOCK_MS)
        if entries:
            # Linger a moment for more, so a steady trickle of requests becomes one task per
            # LINGER_S rather than one per request (Celery's per-task cost dominates otherwise),
            # and longer while the workers are behind.
            time.sleep(LINGER_S)
            deadline = time.monotonic() + LINGER_MAX_S - LINGER_S
            while len(entries) < READ_COUNT:
                entries += stream_read(
                    r=r, consumer=consumer, count=READ_COUNT - len(entries), block_ms=None
                )
                if time.monotonic() >= deadline or tasks_in_flight(r=r) < BUSY_TASKS:
                    break
                time.sleep(LINGER_POLL_S)
    by_shop: dict[str, list[dict[str, object]]] = defaultdict(list)
    counts: Counter[str] = Counter()
    for _, batch in entries:
        by_shop[batch.shop].append(
            {"events": batch.events, "received_at": batch.received_at, "customer": batch.customer}
        )
        counts[batch.shop] += len(batch.events)
    for shop, batches in by_shop.items():
        tracker_events_ingest.apply_async(
            kwargs={"shop": shop, "batches": batches},
            task_id=task_queued(r=r),
            kwargsrepr=f"{{'shop': {shop!r}, 'batches': <{counts[shop]} events>}}",
        )
    stream_ack(r=r, entry_ids=[entry_id for entry_id, _ in entries])
    return len(entries)


def consume_step(*, consumer: str, claim: bool) -> None:
    """consume_once, surviving what Redis can do meanwhile: a restart, or a lost group."""
    from shopapp.events.stream import stream_group_ensure
    from shopapp.redis import get_redis

    try:
        consume_once(consumer=consumer, claim=claim)
    except ResponseError as exc:
        if "NOGROUP" not in str(exc):
            raise
        # The stream or its group is gone (Redis restarted empty, or was flushed): recreate.
        log.warning("event-log group missing; recreating it")
        stream_group_ensure(r=get_redis())
    except (RedisError, OperationalError):
        # Redis restarting: nothing was acknowledged, so nothing is lost; wait and go on.
        log.exception("event log unreachable; retrying in 1 s")
        time.sleep(1.0)


def main() -> None:
    django.setup()
    from shopapp.events.stream import stream_group_ensure
    from shopapp.redis import get_redis

    consumer = f"{socket.gethostname()}-{os.getpid()}"
    stopping = False

    def stop(signum: int, frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    stream_group_ensure(r=get_redis())
    log.warning("event-log consumer %s ready", consumer)
    last_claim = 0.0
    while not stopping:
        claim = time.monotonic() - last_claim > CLAIM_EVERY_S
        if claim:
            last_claim = time.monotonic()
        consume_step(consumer=consumer, claim=claim)


if __name__ == "__main__":
    main()
