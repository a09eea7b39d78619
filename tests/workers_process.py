"""The pipeline's real processes (event-log consumer + Celery worker) for integration tests.

Each runs in its own process group and is always stopped afterwards."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from shopapp.events.keys import STREAM
from shopapp.processes import CELERY_WORKER_READY, CONSUMER_READY, Process, Processes

REPO = Path(__file__).resolve().parents[1]
WORKER_ARGS = (
    "-m celery -A shopapp worker --pool prefork --concurrency 1 --without-gossip --without-mingle"
    " --loglevel INFO"
)
SQLITE_BUSY_S = 300
READY_TIMEOUT_S = 60.0


def worker_env(*, mlflow_uri: str) -> dict[str, str]:
    """What a worker process needs to share this test's database, Redis and MLflow registry."""
    from django.conf import settings
    from django.db import connection

    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        # One file shared with this process: a worker waits for its write lock (a test may hold
        # it on purpose) rather than failing after sqlite's default of 5 s.
        url = f"sqlite:///{db['NAME']}?timeout={SQLITE_BUSY_S}"
    else:
        auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
        url = f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    return {"DATABASE_URL": url, "REDIS_URL": settings.REDIS_URL, "MLFLOW_TRACKING_URI": mlflow_uri}


QUEUES = (STREAM, "ingest", "recommend", "publish", "train")
# Where kombu keeps the tasks that workers took and have not acknowledged (a killed worker's too).
UNACKED = ("unacked", "unacked_index", "unacked_mutex")


def queues_clear() -> None:
    """Empty the event log and the Celery queues, and forget the tasks that workers took and never
    acknowledged, so no test's leftovers reach another's worker."""
    from shopapp.redis import get_redis

    get_redis().delete(*QUEUES, *UNACKED)


@contextmanager
def pipeline_processes(*, env: Mapping[str, str], log_dir: Path, queues: str) -> Iterator[None]:
    """The event-log consumer and a Celery worker consuming `queues`, on empty queues."""
    queues_clear()
    try:
        # Both start at once, each importing Django and the tasks; leaving the block stops both.
        with Processes() as processes:
            _consumer_start(processes, env=env, log_dir=log_dir)
            _worker_start(processes, env=env, log_dir=log_dir, queues=queues, name="worker")
            processes.wait_ready(timeout=READY_TIMEOUT_S)
            yield
    finally:
        queues_clear()


@contextmanager
def consumer_process(*, env: Mapping[str, str], log_dir: Path) -> Iterator[Process]:
    with Processes() as processes:
        consumer = _consumer_start(processes, env=env, log_dir=log_dir)
        consumer.wait_ready(timeout=READY_TIMEOUT_S)
        yield consumer


@contextmanager
def worker_process(
    *, env: Mapping[str, str], log_dir: Path, queues: str, name: str = "worker"
) -> Iterator[Process]:
    """A worker; `kill()` it to SIGKILL it and its pool children mid-task."""
    with Processes() as processes:
        worker = _worker_start(processes, env=env, log_dir=log_dir, queues=queues, name=name)
        worker.wait_ready(timeout=READY_TIMEOUT_S)
        yield worker


def _consumer_start(processes: Processes, *, env: Mapping[str, str], log_dir: Path) -> Process:
    return processes.start(
        name="consumer",
        command=[sys.executable, "-m", "workers.consumer"],
        env={**os.environ, **env},
        log_dir=log_dir,
        ready=CONSUMER_READY,
        cwd=REPO,
    )


def _worker_start(
    processes: Processes, *, env: Mapping[str, str], log_dir: Path, queues: str, name: str
) -> Process:
    return processes.start(
        name=name,
        command=[
            sys.executable,
            *WORKER_ARGS.split(),
            "-Q",
            queues,
            "-n",
            f"{name}-{os.getpid()}@%h",
        ],
        env={**os.environ, **env},
        log_dir=log_dir,
        ready=CELERY_WORKER_READY,
        cwd=REPO,
    )
