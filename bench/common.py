"""What the server benchmarks share: the web tier exactly as docs/operations.md deploys it, and a
scratch var dir. What a benchmark starts, it starts in a `shopapp.processes.Processes` block,
which stops all of it however the run ends."""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

from shopapp.devredis import local_redis_stop as _devredis_stop
from shopapp.processes import GUNICORN_READY, Process, Processes, pid_stop, sigterm_raises

REPO = Path(__file__).resolve().parents[1]


def web_start(processes: Processes, *, port: int, env: dict[str, str], log_dir: Path) -> Process:
    """gunicorn on ``port`` with 2 sync workers, the deployment of docs/operations.md, logging to
    ``log_dir/web.log``; not yet waited for. At gunicorn's default log level, which logs its
    start-up (the readiness line) and never a request."""
    command = [sys.executable, "-m", "gunicorn", "shopapp.wsgi:application", "-w", "2"]
    command += ["-k", "sync", "-b", f"127.0.0.1:{port}", "--log-level", "info"]
    return processes.start(
        name="web", command=command, env=env, log_dir=log_dir, ready=GUNICORN_READY, cwd=REPO
    )


def local_redis_stop(var: Path) -> None:
    """Stop the Redis the project started under ``var`` (none when REDIS_URL is set), without
    ever starting one: shut it down through its recorded port, and kill it by its pid file if it
    is still there (it never answered, so its port was never recorded)."""
    _devredis_stop(var)
    pidfile = var / "redis" / "redis.pid"
    with contextlib.suppress(FileNotFoundError, ValueError):
        pid = int(pidfile.read_text().strip())
        pid_stop(pid, name="redis-server")


@contextlib.contextmanager
def scratch_var(prefix: str = "slipstream-bench-") -> Iterator[Path]:
    """A temporary var dir for a benchmark's processes. On the way out, whatever happened (an
    error, Ctrl-C, a SIGTERM), the Redis the project started in it is stopped before the
    directory goes: a daemonised redis-server would otherwise outlive its deleted directory."""
    with sigterm_raises(), tempfile.TemporaryDirectory(prefix=prefix) as tmp:
        var = Path(tmp)
        try:
            yield var
        finally:
            local_redis_stop(var)


def bench_env(var: Path, **extra: str) -> dict[str, str]:
    """The environment of a benchmark's processes: a scratch var dir, quiet logs, no rate limit
    (the load generator is one "shopper" sending far more than a person would), plus `extra`."""
    return {
        **os.environ,
        "SLIPSTREAM_VAR_DIR": str(var),
        # Benchmarks run the development configuration (the settings default to production).
        "SLIPSTREAM_ENV": "development",
        "DJANGO_SETTINGS_MODULE": "shopapp.settings",
        "LOG_LEVEL": "WARNING",
        "COLLECTOR_RATE_PER_SHOP": "1000000000",
        "COLLECTOR_RATE_PER_SHOPPER": "1000000000",
        "COLLECTOR_RATE_PER_ADDRESS": "1000000000",  # every sender is 127.0.0.1
        "COLLECTOR_NEW_VISITORS_PER_ADDRESS": "1000000000",
        **extra,
    }
