"""The pipeline's real processes (event-log consumer + Celery worker) for integration tests.

Each runs in its own process group and is always stopped afterwards."""

from __future__ import annotations

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


def worker_env(*, mlflow_uri: str) -> dict[str, str]:
    """What a worker process needs to share this test's database, Redis and MLflow registry."""
    from django.conf import settings
    from django.db import connection

    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        url = f"sqlite:///{db['NAME']}"
    else:
        auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
        url = f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    return {"DATABASE_URL": url, "REDIS_URL": settings.REDIS_URL, "MLFLOW_TRACKING_URI": mlflow_uri}


@contextmanager
def pipeline_processes(
    *, env: Mapping[str, str], log_dir: Path, queues: str, ready_timeout: float = 60.0
) -> Iterator[None]:
    """The event-log consumer and a Celery worker consuming `queues`."""
    worker = [*WORKER_ARGS.split(), "-Q", queues, "-n", f"test-{os.getpid()}@%h"]
    with (
        _process(
            env=env,
            args=["-m", "workers.consumer"],
            log_path=log_dir / "consumer.log",
            ready=b"consumer",
            timeout=ready_timeout,
        ),
        _process(
            env=env,
            args=worker,
            log_path=log_dir / "worker.log",
            ready=b" ready.",
            timeout=ready_timeout,
        ),
    ):
        yield


@contextmanager
def _process(
    *, env: Mapping[str, str], args: list[str], log_path: Path, ready: bytes, timeout: float
) -> Iterator[None]:
    with open(log_path, "wb") as log:
        proc = _start(env=env, log=log, args=args)
        try:
            _wait_ready(proc, log_path, ready, timeout)
            yield
        finally:
            _stop(proc)


def _start(*, env: Mapping[str, str], log: IO[bytes], args: list[str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, *args],
        cwd=REPO,
        env={**os.environ, **env},
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group, so the children die with it
    )


def _wait_ready(
    proc: subprocess.Popen[bytes], log_path: Path, ready: bytes, timeout: float
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{log_path.stem} exited early:\n{log_path.read_text()[-3000:]}")
        if ready in log_path.read_bytes():
            return
        time.sleep(0.2)
    raise RuntimeError(f"{log_path.stem} not ready in {timeout}s:\n{log_path.read_text()[-3000:]}")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=5)
