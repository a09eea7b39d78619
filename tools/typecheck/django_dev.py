"""mypy's Django plugin, run against the development settings.

The plugin imports `shopapp.settings`, which default to production and stop without its secrets;
type checking needs only the settings' shape, so it opts in to development first. It also names a
Redis, which it never connects to: without one the development settings start the project's own
(shopapp/devredis.py), and nothing would stop it after the type check.
"""

from __future__ import annotations

import os

os.environ.setdefault("SLIPSTREAM_ENV", "development")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/0")

from mypy_django_plugin.main import plugin

__all__ = ["plugin"]
