"""The pipeline's real processes (event-log consumer + Celery worker) for integration tests.

Each runs in its own process group and is always stopped afterwards."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import IO

REPO = Path(__file__).resolve().parents[1]
WORKER_ARGS = (
    "-m celery -A shopapp worker --pool prefork --concurrency 1 --without-gossip --without-mingle"
    " --loglevel INFO"
)
Process = subprocess.Popen[bytes]
SQLITE_BUSY_S = 300


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


QUEUES = ("ss:events", "ingest", "recommend", "publish", "train")
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
        with (
            consumer_process(env=env, log_dir=log_dir),
            worker_process(env=env, log_dir=log_dir, queues=queues),
        ):
            yield
    finally:
        queues_clear()


@contextmanager
def consumer_process(*, env: Mapping[str, str], log_dir: Path) -> Iterator[Process]:
    with _process(
        env=env,
        args=["-m", "workers.consumer"],
        log_path=log_dir / "consumer.log",
        ready=b"event-log consumer",
    ) as proc:
        yield proc


@contextmanager
def worker_process(
    *, env: Mapping[str, str], log_dir: Path, queues: str, name: str = "worker"
) -> Iterator[Process]:
    args = [*WORKER_ARGS.split(), "-Q", queues, "-n", f"{name}-{os.getpid()}@%h"]
    with _process(env=env, args=args, log_path=log_dir / f"{name}.log", ready=b" ready.") as proc:
        yield proc


def kill_hard(proc: Process) -> None:
    """SIGKILL the whole process group: the worker and its pool children die mid-task."""
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)


@contextmanager
def _process(
    *, env: Mapping[str, str], args: list[str], log_path: Path, ready: bytes, timeout: float = 60.0
) -> Iterator[Process]:
    with open(log_path, "wb") as log:
        proc = _start(env=env, log=log, args=args)
        try:
            _wait_ready(proc, log_path, ready, timeout)
            yield proc
        finally:
            _stop(proc)


def _start(*, env: Mapping[str, str], log: IO[bytes], args: list[str]) -> Process:
    return subprocess.Popen(
        [sys.executable, *args],
        cwd=REPO,
        env={**os.environ, **env},
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group, so the children die with it
    )


def _wait_ready(proc: Process, log_path: Path, ready: bytes, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{log_path.stem} exited early:\n{log_path.read_text()[-3000:]}")
        if ready in log_path.read_bytes():
            return
        time.sleep(0.2)
    raise RuntimeError(f"{log_path.stem} not ready in {timeout}s:\n{log_path.read_text()[-3000:]}")


def _stop(proc: Process) -> None:
    """SIGTERM the group, then SIGKILL whatever of it is left: pool children outlive a leader that
    died first, so the group is signalled even when the leader has exited."""
    _signal_group(proc, signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=15)
    _signal_group(proc, signal.SIGKILL)
    proc.wait(timeout=5)


def _signal_group(proc: Process, signum: int) -> None:
    # A group keeps its leader's id while any member lives (the id is not handed out again until
    # the group is gone), and every member is ours: the process's children stay in its group.
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signum)
