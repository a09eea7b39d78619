"""What the browser tests share."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any


def wait_until(page: Any, condition: Callable[[], bool], what: str, timeout: float = 30.0) -> None:
    """Poll while letting Playwright deliver the page's events (its sync API only does so
    inside its own calls, so a plain sleep would starve the listeners)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        page.wait_for_timeout(200)
    raise AssertionError(f"timed out waiting for {what}")
