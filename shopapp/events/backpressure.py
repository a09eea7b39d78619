"""How far behind the workers are, so the event-log consumer batches more while they are busy.

Every ingest task and every refresh it queues is recorded in one sorted set from the moment it
is queued until it ends. A worker's cost is mostly per task (a database transaction, the shop's
settings, a model call, Celery's own dispatch), not per event, so under load the consumer waits
for the count to fall below the workers' concurrency, reading what arrives meanwhile into the
same task, for at most `workers.consumer.LINGER_MAX_S`. An idle pipeline is sent each read at
once; a busy one gets fewer, larger tasks instead of a queue that grows without end.
"""

from __future__ import annotations

import time
import uuid

import redis

from shopapp.events.keys import IN_FLIGHT, IN_FLIGHT_STALE_S

_KEY = IN_FLIGHT.key()


def task_queued(*, r: redis.Redis) -> str:
    """A fresh task id, counted as in flight; pass it to `apply_async(task_id=...)`."""
    task_id = str(uuid.uuid4())
    r.zadd(_KEY, {task_id: time.time()})
    return task_id


def task_done(*, r: redis.Redis, task_id: str | None) -> None:
    """Called as a task ends, however it ends."""
    if task_id:
        r.zrem(_KEY, task_id)


def tasks_in_flight(*, r: redis.Redis) -> int:
    """Tasks queued or running; a task lost with its worker stops counting after
    IN_FLIGHT_STALE_S."""
    pipe = r.pipeline(transaction=False)
    pipe.zremrangebyscore(_KEY, "-inf", time.time() - IN_FLIGHT_STALE_S)
    pipe.zcard(_KEY)
    return int(pipe.execute()[1])
