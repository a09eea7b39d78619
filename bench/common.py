"""What the server benchmarks share: the web tier exactly as docs/operations.md deploys it."""

from __future__ import annotations


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
