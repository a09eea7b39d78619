"""Reading the settings' secrets and optional values from the environment (shopapp/settings.py).

Pure functions of the environment and of what the settings already decided, so that the settings
module stays a list of settings; importing this does nothing.
"""

from __future__ import annotations

from typing import Any

import environ
from django.core.exceptions import ImproperlyConfigured


def secret_read(
    env: environ.Env, name: str, dev_default: str, *, local: bool, production: bool, app_url: str
) -> str:
    """A secret: required (start-up stops with a message naming it) unless development is local,
    where the published default stands in. The published default itself is never accepted."""
    value: str = env.str(name, default="")
    if local:
        return value or dev_default
    if not value:
        why = (
            "when SLIPSTREAM_ENV=production"
            if production
            else f"when SHOPIFY_APP_URL ({app_url}) is not a loopback address"
        )
        raise ImproperlyConfigured(
            f"{name} is required {why}. Set it in the environment (see .env.example); Slipstream "
            f"will not start without it. (The demo, the tests and the benchmarks run with "
            f"SLIPSTREAM_ENV=development on localhost: `make demo`, `make test`.)"
        )
    if value == dev_default:
        raise ImproperlyConfigured(
            f"{name} is the published development default; set a secret of your own."
        )
    return value


def value_or_default(env: environ.Env, name: str, default: object, cast: type) -> Any:
    """An optional variable; left empty (as .env.example leaves it) it keeps its default."""
    value: str = env.str(name, default="")
    return environ.Env.parse_value(value, cast) if value else default
