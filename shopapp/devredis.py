"""A Redis the project starts for itself when `REDIS_URL` is unset (demo, first run, local tests).

Every process (web, worker, beat, manage.py) resolves the same server: the first one starts
`redis-server` on a free loopback port under `var/redis/` and records the port; the others find it
there and check it answers. A file lock keeps two processes starting at once from starting two.
Each process remembers the server it started itself, so a test session stops the one it started
and leaves alone one that a demo (or another session) started.
"""

from __future__ import annotations

import contextlib
import fcntl
import shutil
import socket
import subprocess
import time
from pathlib import Path

import redis


class LocalRedisUnavailable(RuntimeError):
    pass


# var/redis folder -> the port of the server this process started there.
_started: dict[Path, str] = {}


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _answers(url: str) -> bool:
    try:
        return bool(redis.Redis.from_url(url, socket_timeout=0.5).ping())
    except redis.RedisError:
        return False


def _server_binary() -> str:
    found = shutil.which("redis-server")
    if found:
        return found
    raise LocalRedisUnavailable(
        "REDIS_URL is not set and no redis-server is installed. Run `make demo` (it installs one), "
        "install Redis yourself (apt-get install redis-server), or set REDIS_URL."
    )


def local_redis_url(var_dir: Path) -> str:
    """Return the URL of the project's own Redis, starting it when it is not running."""
    home = var_dir / "redis"
    home.mkdir(parents=True, exist_ok=True)
    port_file = home / "port"
    with open(home / "start.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if port_file.exists():
            url = f"redis://127.0.0.1:{port_file.read_text().strip()}/0"
            if _answers(url):
                return url
        port = _free_port()
        subprocess.run(
            [
                _server_binary(),
                "--port",
                str(port),
                "--bind",
                "127.0.0.1",
                "--daemonize",
                "yes",
                "--dir",
                str(home),
                "--pidfile",
                str(home / "redis.pid"),
                "--logfile",
                str(home / "redis.log"),
                # The demo keeps its data across restarts the same way production should (AOF).
                "--appendonly",
                "yes",
                "--save",
                "",
            ],
            check=True,
        )
        url = f"redis://127.0.0.1:{port}/0"
        for _ in range(100):
            if _answers(url):
                port_file.write_text(str(port))
                _started[home] = str(port)
                return url
            time.sleep(0.05)
        raise LocalRedisUnavailable(
            f"redis-server did not answer on port {port}; see {home}/redis.log"
        )


def local_redis_started_here(var_dir: Path) -> bool:
    """Whether this process started the project's own Redis that runs for `var_dir` now."""
    home = var_dir / "redis"
    port_file = home / "port"
    return (
        home in _started and port_file.exists() and port_file.read_text().strip() == _started[home]
    )


def local_redis_stop(var_dir: Path) -> None:
    """Stop the project's own Redis if it runs (the demo's Ctrl-C)."""
    port_file = var_dir / "redis" / "port"
    if not port_file.exists():
        return
    url = f"redis://127.0.0.1:{port_file.read_text().strip()}/0"
    # Shutdown closes the connection under us (or the server was already gone).
    with contextlib.suppress(redis.ConnectionError):
        redis.Redis.from_url(url, socket_timeout=1).shutdown(nosave=True)
    port_file.unlink(missing_ok=True)
    _started.pop(var_dir / "redis", None)
