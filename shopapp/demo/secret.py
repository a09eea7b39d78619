"""The demo's own app secret: random, made once per var dir, readable by its owner only.

The demo's stand-in app proxy signs whatever a browser asks it to, so it must never sign with a
secret anything else accepts: not a real app's, and not the development default published in this
repository. `manage.py demo` gives this one to the processes it starts as their SHOPIFY_API_SECRET.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path


def demo_secret_get(*, path: Path) -> str:
    """The secret kept at `path`, made there first if there is none yet."""
    path.parent.mkdir(parents=True, exist_ok=True)
    # O_EXCL: two demos starting at once keep the one secret that was written first.
    with contextlib.suppress(FileExistsError):
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(secrets.token_hex(32))
    return path.read_text().strip()
