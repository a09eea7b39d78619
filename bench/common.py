"""What the server benchmarks share: the web tier exactly as docs/operations.md deploys it."""

from __future__ import annotations

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
