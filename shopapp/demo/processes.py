"""The demo's processes: the web server, a worker on every queue, the event-log consumer and beat,
each in its own process group (shopapp/processes.py), so stopping them leaves nothing running."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from pathlib import Path

from shopapp.processes import (
    CELERY_BEAT_READY,
    CELERY_WORKER_READY,
    CONSUMER_READY,
    RUNSERVER_READY,
    Processes,
)

# All four import Django and the tasks at once, on a laptop's cores.
READY_TIMEOUT_S = 90.0


def demo_processes_start(*, port: int, env: Mapping[str, str], log_dir: Path) -> Processes:
    """Start them together and return once each has said it is ready (their logs are in
    `log_dir`); if one exits or never gets ready, all are stopped and the error names it."""
    celery = [sys.executable, "-m", "celery", "-A", "shopapp"]
    queues = "ingest,recommend,publish,train"
    commands = {
        "web": (
            [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
            RUNSERVER_READY,
        ),
        "worker": (
            [*celery, "worker", "--concurrency", "2", "-Q", queues, "--loglevel", "INFO"],
            CELERY_WORKER_READY,
        ),
        "consumer": ([sys.executable, "-m", "workers.consumer"], CONSUMER_READY),
        "beat": ([*celery, "beat", "--loglevel", "INFO"], CELERY_BEAT_READY),
    }
    processes = Processes()
    try:
        for name, (command, ready) in commands.items():
            processes.start(name=name, command=command, env=env, log_dir=log_dir, ready=ready)
        processes.wait_ready(timeout=READY_TIMEOUT_S)
    except BaseException:
        processes.stop()
        raise
    return processes
