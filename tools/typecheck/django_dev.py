"""mypy's Django plugin, run against the development settings.

The plugin imports `shopapp.settings`, which default to production and stop without its secrets;
type checking needs only the settings' shape, so it opts in to development first. (Importing them
starts nothing: no Redis, no folder.)
"""

from __future__ import annotations

import os

os.environ.setdefault("SLIPSTREAM_ENV", "development")

from mypy_django_plugin.main import plugin

__all__ = ["plugin"]
