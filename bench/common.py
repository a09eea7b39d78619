"""What the server benchmarks share: the web tier exactly as docs/operations.md deploys it, a
scratch var dir, and stopping everything a benchmark started, however it ends."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from types import FrameType

from shopapp.devredis import local_redis_stop as _devredis_stop

REPO = Path(__file__).resolve().parents[1]


def gunicorn_args(port: int) -> list[str]:
    """`python <these>`: 2 sync workers, the deployment of docs/operations.md."""
    return [
        "-m",
        "gunicorn",
        "shopapp.wsgi:application",
        "-w",
        "2",
        "-k",
        "sync",
        "-b",
        f"127.0.0.1:{port}",
        "--log-level",
        "warning",
    ]


def local_redis_stop(var: Path) -> None:
    """Stop the Redis the project started under ``var`` (none when REDIS_URL is set), without
    ever starting one: shut it down through its recorded port, and kill it by its pid file if it
    is still there (it never answered, so its port was never recorded)."""
    _devredis_stop(var)
    pidfile = var / "redis" / "redis.pid"
    with contextlib.suppress(FileNotFoundError, ValueError):
        pid = int(pidfile.read_text().strip())
        _pid_stop(pid, name="redis-server")


def _pid_stop(pid: int, *, name: str, grace: float = 5.0) -> None:
    """SIGTERM ``pid`` if it is still a ``name``; SIGKILL it if it outlives ``grace`` seconds."""
    if not _is(pid, name):
        return
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while _is(pid, name):
        if time.monotonic() >= deadline:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            return
        time.sleep(0.05)


def _is(pid: int, name: str) -> bool:
    # A pid is reused once its process has gone: check it is still the program we mean.
    try:
        return name.encode() in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False


def processes_stop(procs: list[subprocess.Popen[bytes]], *, grace: float = 30.0) -> None:
    """Stop each process and its whole group (they are started with ``start_new_session``, so
    gunicorn's and Celery's forked workers go too): SIGTERM, SIGKILL after ``grace`` seconds."""
    for proc in procs:
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    for proc in procs:
        try:
            proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        # A group can outlive its leader (an orphaned pool child): make sure it is gone.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)


@contextlib.contextmanager
def scratch_var(prefix: str = "slipstream-bench-") -> Iterator[Path]:
    """A temporary var dir for a benchmark's processes. On the way out, whatever happened (an
    error, Ctrl-C, a SIGTERM), the Redis the project started in it is stopped before the
    directory goes: a daemonised redis-server would otherwise outlive its deleted directory."""
    previous = signal.signal(signal.SIGTERM, _exit_on_sigterm)
    try:
        with tempfile.TemporaryDirectory(prefix=prefix) as tmp:
            var = Path(tmp)
            try:
                yield var
            finally:
                local_redis_stop(var)
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextlib.contextmanager
def running() -> Iterator[list[subprocess.Popen[bytes]]]:
    """A list for the processes a benchmark starts; every one is stopped on the way out."""
    procs: list[subprocess.Popen[bytes]] = []
    try:
        yield procs
    finally:
        processes_stop(procs)


def _exit_on_sigterm(signum: int, frame: FrameType | None) -> None:
    # SIGTERM's default ends Python without running `finally`: turn it into an exit that does.
    raise SystemExit(128 + signum)


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
