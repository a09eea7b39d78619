from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SECRETS = (
    "DJANGO_SECRET_KEY",
    "SHOPIFY_API_KEY",
    "SHOPIFY_API_SECRET",
    "SHOPIFY_TOKEN_KEYS",
    "REDIS_URL",
    "SHOPIFY_ORIGIN_OVERRIDE",
)
PRODUCTION = {
    "SLIPSTREAM_ENV": "production",
    "DJANGO_SECRET_KEY": "k" * 50,
    "SHOPIFY_API_KEY": "id",
    "SHOPIFY_API_SECRET": "secret",
    "SHOPIFY_TOKEN_KEYS": "GRyDcWhJB4MwSOM6mbT7vFoljWvJ3kB8DPnoG2zHuVE=",
    "REDIS_URL": "redis://127.0.0.1:6379/0",
    "DJANGO_ALLOWED_HOSTS": "app.example",
}


def _start(env: dict[str, str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if k not in SECRETS}
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        env={
            **base,
            "DJANGO_SETTINGS_MODULE": "shopapp.settings",
            "SLIPSTREAM_VAR_DIR": str(tmp_path),
            **env,
        },
    )


def test_production_without_a_secret_stops_with_its_name(tmp_path: Path) -> None:
    result = _start({"SLIPSTREAM_ENV": "production"}, tmp_path)
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY is required when SLIPSTREAM_ENV=production" in result.stderr


def test_production_with_every_secret_starts(tmp_path: Path) -> None:
    result = _start(PRODUCTION, tmp_path)
    assert (result.returncode, result.stderr) == (0, "")


def test_production_without_token_keys_stops_with_its_name(tmp_path: Path) -> None:
    result = _start({**PRODUCTION, "SHOPIFY_TOKEN_KEYS": ""}, tmp_path)
    assert result.returncode != 0
    assert "SHOPIFY_TOKEN_KEYS is required when SLIPSTREAM_ENV=production" in result.stderr


def test_production_refuses_a_stand_in_shopify(tmp_path: Path) -> None:
    result = _start({**PRODUCTION, "SHOPIFY_ORIGIN_OVERRIDE": "http://127.0.0.1:9"}, tmp_path)
    assert result.returncode != 0
    assert "SHOPIFY_ORIGIN_OVERRIDE must not be set in production" in result.stderr
