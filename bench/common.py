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


def cpu_seconds(processes: Processes) -> dict[str, float]:
    """CPU seconds (user + system) used so far by each started process's group (a process and
    the children it forked: gunicorn's and Celery's workers), by name; the caller's own process
    as "bench", and the whole machine's busy time as "machine". Read from /proc: Linux only,
    which is where the benchmarks run."""
    tick = os.sysconf("SC_CLK_TCK")
    groups = {p.pid: p.name for p in processes.started}
    used = dict.fromkeys(groups.values(), 0.0)
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError):
            # The command name may hold spaces: the fields start after its closing ")".
            fields = stat.read_text().rsplit(")", 1)[1].split()
            name = groups.get(int(fields[2]))  # the process group
            if name is not None:
                used[name] += (int(fields[11]) + int(fields[12])) / tick
    times = os.times()
    used["bench"] = times.user + times.system
    # Every process's, Redis and the kernel's included: user, nice, system, irq, softirq, steal.
    busy = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    used["machine"] = sum(int(busy[n]) for n in (0, 1, 2, 5, 6, 7)) / tick
    return used


def cpu_model() -> str:
    """The CPU's model name and the widest vector unit torch uses on it: latency figures of
    small matrix products differ by 2x between the CPUs this project's machines draw."""
    import torch

    name = "unknown CPU"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                name = line.partition(":")[2].strip()
                break
    return f"{name}, {os.cpu_count()} cores, torch {torch.backends.cpu.get_cpu_capability()}"
