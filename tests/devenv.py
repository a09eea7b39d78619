"""Loaded by pytest before pytest-django imports the settings (`-p tests.devenv` in pyproject.toml).

The settings default to production (fail closed); the tests run the development configuration, so
they opt in here. A value already in the environment wins, so a run can still choose production.
The demo is never installed for the session (a shell that exported SLIPSTREAM_DEMO included): the
tests run the app as production does, and those that exercise the demo install it themselves
(tests/conftest.py:demo_app).
"""

from __future__ import annotations

import os

os.environ.setdefault("SLIPSTREAM_ENV", "development")
os.environ.pop("SLIPSTREAM_DEMO", None)
os.environ.pop("SLIPSTREAM_DEMO_APP_PROXY", None)
