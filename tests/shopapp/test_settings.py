from __future__ import annotations

import json
import stat
import subprocess
from pathlib import Path
from typing import Any

import pytest

from shopapp.demo.management.commands.demo import Command as DemoCommand
from shopapp.demo.secret import demo_secret_get
from tests.shopapp.settings_process import python_run

PRODUCTION = {
    "SLIPSTREAM_ENV": "production",
    "DJANGO_SECRET_KEY": "k" * 50,
    "SHOPIFY_API_KEY": "id",
    "SHOPIFY_API_SECRET": "secret",
    "SHOPIFY_TOKEN_KEYS": "GRyDcWhJB4MwSOM6mbT7vFoljWvJ3kB8DPnoG2zHuVE=",
    "REDIS_URL": "redis://127.0.0.1:6379/0",
    "SHOPIFY_APP_URL": "https://app.example",
    "DJANGO_ALLOWED_HOSTS": "app.example",
}


# The development defaults published in shopapp/settings.py.
DEV_SECRET_KEY = "dev-only-insecure-key-never-use-in-production"
DEV_API_SECRET = "slipstream-dev-client-secret-not-for-production"
OWN = {"DJANGO_SECRET_KEY": "k" * 50, "SHOPIFY_API_KEY": "id", "SHOPIFY_API_SECRET": "secret"}
READ = (
    "import django, json, sys; django.setup()\n"
    "from django.conf import settings\n"
    "print(json.dumps({n: getattr(settings, n) for n in sys.argv[1:]}, default=str))"
)


def _start(env: dict[str, str], tmp_path: Path, *names: str) -> subprocess.CompletedProcess[str]:
    """Start Django in a fresh process with `env` only (plus PATH and the like), printing the
    settings `names` as JSON."""
    return python_run(READ, *names, env=env, var_dir=tmp_path)


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


def _settings(env: dict[str, str], tmp_path: Path, *names: str) -> dict[str, Any]:
    result = _start(env, tmp_path, *names)
    assert (result.returncode, result.stderr) == (0, ""), result.stderr
    values: dict[str, Any] = json.loads(result.stdout)
    return values


def _dev(**env: str) -> dict[str, str]:
    # No REDIS_URL: the settings start no Redis of their own (test_settings_import.py).
    return {"SLIPSTREAM_ENV": "development", **env}


def test_the_default_environment_is_production(tmp_path: Path) -> None:
    result = _start({}, tmp_path)
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY is required when SLIPSTREAM_ENV=production" in result.stderr


def test_an_unknown_environment_is_refused(tmp_path: Path) -> None:
    result = _start({**PRODUCTION, "SLIPSTREAM_ENV": "staging"}, tmp_path)
    assert result.returncode != 0
    assert "SLIPSTREAM_ENV must be production or development, not 'staging'" in result.stderr


@pytest.mark.parametrize(
    ("name", "published"),
    [("DJANGO_SECRET_KEY", DEV_SECRET_KEY), ("SHOPIFY_API_SECRET", DEV_API_SECRET)],
)
def test_production_refuses_a_published_development_secret(
    tmp_path: Path, name: str, published: str
) -> None:
    result = _start({**PRODUCTION, name: published}, tmp_path)
    assert result.returncode != 0
    assert f"{name} is the published development default" in result.stderr


def test_production_without_an_https_app_url_stops_with_its_name(tmp_path: Path) -> None:
    for url in ("", "http://app.example"):
        result = _start({**PRODUCTION, "SHOPIFY_APP_URL": url}, tmp_path)
        assert result.returncode != 0
        assert "SHOPIFY_APP_URL is required when SLIPSTREAM_ENV=production" in result.stderr


def test_production_refuses_debug(tmp_path: Path) -> None:
    result = _start({**PRODUCTION, "DJANGO_DEBUG": "true"}, tmp_path)
    assert result.returncode != 0
    assert "DJANGO_DEBUG must not be on in production" in result.stderr


def test_development_off_loopback_refuses_the_development_secrets(tmp_path: Path) -> None:
    url = "https://slipstream.example.com"
    result = _start(_dev(SHOPIFY_APP_URL=url), tmp_path)
    assert result.returncode != 0
    assert (
        f"DJANGO_SECRET_KEY is required when SHOPIFY_APP_URL ({url}) is not a loopback address"
    ) in result.stderr
    result = _start(_dev(SHOPIFY_APP_URL=url, **{**OWN, "SHOPIFY_API_SECRET": ""}), tmp_path)
    assert result.returncode != 0
    assert "SHOPIFY_API_SECRET is required when SHOPIFY_APP_URL" in result.stderr
    result = _start(
        _dev(SHOPIFY_APP_URL=url, **{**OWN, "SHOPIFY_API_SECRET": DEV_API_SECRET}), tmp_path
    )
    assert result.returncode != 0
    assert "SHOPIFY_API_SECRET is the published development default" in result.stderr


def test_development_off_loopback_with_its_own_secrets_runs_without_debug(tmp_path: Path) -> None:
    env = _dev(SHOPIFY_APP_URL="https://dev.example.com", **OWN)
    assert _settings(env, tmp_path, "DEBUG", "ALLOWED_HOSTS", "SECRET_KEY") == {
        "DEBUG": False,
        "ALLOWED_HOSTS": ["dev.example.com"],
        "SECRET_KEY": "k" * 50,
    }


@pytest.mark.parametrize(
    ("url", "host"),
    [
        ("http://127.0.0.1:8000", "127.0.0.1"),
        ("http://localhost:8000", "localhost"),
        ("http://[::1]:8000", "[::1]"),
    ],
)
def test_development_on_loopback_runs_on_the_published_defaults(
    tmp_path: Path, url: str, host: str
) -> None:
    names = ("DEBUG", "ALLOWED_HOSTS", "SHOPIFY_API_SECRET", "SECURE_PROXY_SSL_HEADER")
    assert _settings(_dev(SHOPIFY_APP_URL=url), tmp_path, *names) == {
        "DEBUG": True,
        "ALLOWED_HOSTS": [host, "localhost", "127.0.0.1", "[::1]"],
        "SHOPIFY_API_SECRET": DEV_API_SECRET,
        "SECURE_PROXY_SSL_HEADER": None,
    }


def test_production_trusts_the_proxys_https_header_and_sends_hsts(tmp_path: Path) -> None:
    names = (
        "SECURE_PROXY_SSL_HEADER",
        "SECURE_SSL_REDIRECT",
        "SECURE_HSTS_SECONDS",
        "SESSION_COOKIE_SECURE",
        "CSRF_COOKIE_SECURE",
        "DEBUG",
    )
    assert _settings(PRODUCTION, tmp_path, *names) == {
        "SECURE_PROXY_SSL_HEADER": ["HTTP_X_FORWARDED_PROTO", "https"],
        "SECURE_SSL_REDIRECT": True,
        "SECURE_HSTS_SECONDS": 31_536_000,
        "SESSION_COOKIE_SECURE": True,
        "CSRF_COOKIE_SECURE": True,
        "DEBUG": False,
    }
    other = {**PRODUCTION, "DJANGO_SECURE_PROXY_SSL_HEADER": "X-Forwarded-Scheme"}
    assert _settings(other, tmp_path, "SECURE_PROXY_SSL_HEADER") == {
        "SECURE_PROXY_SSL_HEADER": ["HTTP_X_FORWARDED_SCHEME", "https"]
    }
    none = {**PRODUCTION, "DJANGO_SECURE_PROXY_SSL_HEADER": "none"}
    assert _settings(none, tmp_path, "SECURE_PROXY_SSL_HEADER") == {"SECURE_PROXY_SSL_HEADER": None}
    # Left empty, as .env.example leaves them, the variables keep the production defaults.
    empty = {**PRODUCTION, "DJANGO_SECURE_PROXY_SSL_HEADER": "", "DJANGO_SECURE_HSTS_SECONDS": ""}
    assert _settings(empty, tmp_path, "SECURE_PROXY_SSL_HEADER", "SECURE_HSTS_SECONDS") == {
        "SECURE_PROXY_SSL_HEADER": ["HTTP_X_FORWARDED_PROTO", "https"],
        "SECURE_HSTS_SECONDS": 31_536_000,
    }
    assert _settings(PRODUCTION, tmp_path, "ALLOWED_HOSTS") == {"ALLOWED_HOSTS": ["app.example"]}
    defaulted = {k: v for k, v in PRODUCTION.items() if k != "DJANGO_ALLOWED_HOSTS"}
    assert _settings(defaulted, tmp_path, "ALLOWED_HOSTS") == {"ALLOWED_HOSTS": ["app.example"]}


def test_the_demo_app_proxy_is_off_unless_the_demo_turns_it_on(tmp_path: Path) -> None:
    assert _settings(_dev(), tmp_path, "DEMO_APP_PROXY") == {"DEMO_APP_PROXY": False}


def test_the_demo_app_proxy_refuses_the_published_secret(tmp_path: Path) -> None:
    result = _start(_dev(SLIPSTREAM_DEMO_APP_PROXY="true"), tmp_path)
    assert result.returncode != 0
    assert "SLIPSTREAM_DEMO_APP_PROXY signs with the demo's own secret" in result.stderr
    # Even with the demo's secret made, the published one is still not what it signs with.
    demo_secret_get(path=tmp_path / "demo-secret")
    result = _start(_dev(SLIPSTREAM_DEMO_APP_PROXY="true"), tmp_path)
    assert result.returncode != 0
    assert "SLIPSTREAM_DEMO_APP_PROXY signs with the demo's own secret" in result.stderr


@pytest.mark.parametrize(
    "where",
    [PRODUCTION, _dev(SHOPIFY_APP_URL="https://dev.example.com", **OWN)],
    ids=["production", "development-off-loopback"],
)
def test_the_demo_app_proxy_is_refused_outside_local_development(
    tmp_path: Path, where: dict[str, str]
) -> None:
    result = _start({**where, "SLIPSTREAM_DEMO_APP_PROXY": "true"}, tmp_path)
    assert result.returncode != 0
    assert "SLIPSTREAM_DEMO_APP_PROXY is for `manage.py demo` only" in result.stderr


def test_the_demo_gives_its_processes_the_proxy_and_a_secret_of_their_own(
    tmp_path: Path, settings: Any
) -> None:
    settings.DEMO_APP_PROXY_SECRET_FILE = tmp_path / "demo-secret"
    env = DemoCommand().child_env()
    secret = env["SHOPIFY_API_SECRET"]
    assert (env["SLIPSTREAM_ENV"], env["SLIPSTREAM_DEMO_APP_PROXY"]) == ("development", "true")
    assert env["SLIPSTREAM_DEMO"] == "true"  # web, worker, consumer and beat: the demo installed
    assert len(secret) == 64
    assert secret not in (DEV_API_SECRET, settings.SHOPIFY_API_SECRET)
    # Made once per var dir, readable by its owner only; the next demo keeps it.
    assert stat.S_IMODE((tmp_path / "demo-secret").stat().st_mode) == 0o600
    assert DemoCommand().child_env()["SHOPIFY_API_SECRET"] == secret
    names = ("SLIPSTREAM_DEMO", "SLIPSTREAM_DEMO_APP_PROXY", "SHOPIFY_API_SECRET")
    child = {k: env[k] for k in names}
    assert _settings(
        _dev(**child), tmp_path, "DEMO_APP_PROXY", "DEMO_APP_PROXY_SECRET", "ROOT_URLCONF"
    ) == {
        "DEMO_APP_PROXY": True,
        "DEMO_APP_PROXY_SECRET": secret,
        "ROOT_URLCONF": "shopapp.demo.urls",
    }
