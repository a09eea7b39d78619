"""Loaded by pytest before pytest-django imports the settings (`-p tests.devenv` in pyproject.toml).

The settings default to production (fail closed); the tests run the development configuration, so
they opt in here. A value already in the environment wins, so a run can still choose production.
"""

from __future__ import annotations

import os

os.environ.setdefault("SLIPSTREAM_ENV", "development")
