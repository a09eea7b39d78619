"""What the server benchmarks share: the web tier exactly as docs/operations.md deploys it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

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


def local_redis_stop(env: dict[str, str]) -> None:
    """Stop the Redis the project started under the run's var dir, if it started one."""
    subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; django.setup()\n"
            "from shopapp.devredis import local_redis_stop\n"
            "from django.conf import settings\n"
            "local_redis_stop(settings.VAR_DIR)",
        ],
        env=env,
        cwd=REPO,
        check=False,
    )


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
