"""Python started fresh with an environment a test chooses, for the tests of the settings."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
# Left out of the runner's environment: each test says which of them the process gets.
CONFIGURATION = (
    "DJANGO_SECRET_KEY",
    "SHOPIFY_API_KEY",
    "SHOPIFY_API_SECRET",
    "SHOPIFY_TOKEN_KEYS",
    "REDIS_URL",
    "SHOPIFY_ORIGIN_OVERRIDE",
    "SLIPSTREAM_ENV",
    "SHOPIFY_APP_URL",
    "SLIPSTREAM_DEMO",
    "SLIPSTREAM_DEMO_APP_PROXY",
    "DJANGO_DEBUG",
    "DJANGO_ALLOWED_HOSTS",
)


def python_run(
    code: str, *args: str, env: dict[str, str], var_dir: Path
) -> subprocess.CompletedProcess[str]:
    """Run `code` in a fresh interpreter with Django's settings module named and `var_dir` as
    SLIPSTREAM_VAR_DIR, given `env` only (plus PATH and the like)."""
    base = {k: v for k, v in os.environ.items() if k not in CONFIGURATION}
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        env={
            **base,
            "DJANGO_SETTINGS_MODULE": "shopapp.settings",
            "SLIPSTREAM_VAR_DIR": str(var_dir),
            **env,
        },
    )
