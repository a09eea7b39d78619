from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SECRETS = ("DJANGO_SECRET_KEY", "SHOPIFY_API_KEY", "SHOPIFY_API_SECRET", "REDIS_URL")


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
    result = _start(
        {
            "SLIPSTREAM_ENV": "production",
            "DJANGO_SECRET_KEY": "k" * 50,
            "SHOPIFY_API_KEY": "id",
            "SHOPIFY_API_SECRET": "secret",
            "REDIS_URL": "redis://127.0.0.1:6379/0",
            "DJANGO_ALLOWED_HOSTS": "app.example",
        },
        tmp_path,
    )
    assert (result.returncode, result.stderr) == (0, "")
