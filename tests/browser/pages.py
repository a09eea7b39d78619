"""What the browser tests share."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from shopapp.processes import wait_until as _wait_until


def wait_until(page: Any, condition: Callable[[], bool], what: str, timeout: float = 30.0) -> None:
    """Poll while letting Playwright deliver the page's events (its sync API only does so
    inside its own calls, so a plain sleep would starve the listeners)."""
    _wait_until(
        condition, what=what, timeout=timeout, sleep=lambda s: page.wait_for_timeout(s * 1000)
    )
