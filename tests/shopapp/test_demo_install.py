"""The demo (shopapp/demo/) is installed only while SLIPSTREAM_DEMO is on, which only `make demo`
sets (and `manage.py demo` for its processes): without it no module of the demo is even imported,
its URLs answer 404 and `manage.py demo` does not exist; in production it is refused."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
from django.urls import URLPattern, resolve

from shopapp.demo import urls as demo_urls
from shopapp.demo.secret import demo_secret_get
from tests.shopapp.settings_process import REPO, python_run

# One path of each of the demo's routes (test_every_demo_route_is_checked keeps the list whole).
DEMO_PATHS = (
    "/apps/slipstream/recommendations",
    "/demo/store/",
    "/products/red-shoe",
    "/demo/images/1.svg",
    "/demo/dashboard/",
    "/cart/add",
    "/demo/admin/",
    "/demo/admin/token",
    "/demo/admin/settings",
)
SERVED = r"""
import json, sys, django
django.setup()
from django.apps import apps
from django.conf import settings
from django.core.management import get_commands
from django.template.loader import get_template
from django.test import Client
from django.test.utils import setup_test_environment
from django.urls import Resolver404, resolve
def routed(path):
    try:
        return bool(resolve(path))
    except Resolver404:
        return False
setup_test_environment()
statuses = {path: Client().get(path).status_code for path in sys.argv[1:]}
# The app's pages compile (none loads a tag library of the demo's).
for page in ("base", "overview", "settings", "models", "data"):
    get_template(f"app/{page}.html")
print(json.dumps({
    "installed": apps.is_installed("shopapp.demo"),
    "middleware": [m for m in settings.MIDDLEWARE if "demo" in m],
    "urlconf": settings.ROOT_URLCONF,
    "command": "demo" in get_commands(),
    "routed": [path for path in sys.argv[1:] if routed(path)],
    "statuses": statuses,
    "imported": sorted(m for m in sys.modules if m.split(".")[:2] == ["shopapp", "demo"]),
}))
"""
DEV = {"SLIPSTREAM_ENV": "development", "REDIS_URL": "redis://127.0.0.1:9/0"}


def _served(env: dict[str, str], tmp_path: Path) -> dict[str, Any]:
    result = python_run(SERVED, *DEMO_PATHS, env=env, var_dir=tmp_path)
    assert result.returncode == 0, result.stderr
    served: dict[str, Any] = json.loads(result.stdout)
    return served


def test_every_demo_route_is_checked() -> None:
    routes = {p.name for p in demo_urls.urlpatterns if isinstance(p, URLPattern)}
    checked = {resolve(path, urlconf="shopapp.demo.urls").url_name for path in DEMO_PATHS}
    assert checked == routes


def test_without_the_demo_nothing_of_it_is_installed_imported_or_routed(tmp_path: Path) -> None:
    assert _served(DEV, tmp_path) == {
        "installed": False,
        "middleware": [],
        "urlconf": "shopapp.urls",
        "command": False,
        "routed": [],
        "statuses": dict.fromkeys(DEMO_PATHS, 404),
        "imported": [],
    }


def test_the_demo_installs_its_app_middleware_urls_and_command(tmp_path: Path) -> None:
    served = _served({**DEV, "SLIPSTREAM_DEMO": "true"}, tmp_path)
    del served["imported"]  # its URLconf, views and middleware, of course
    assert served == {
        "installed": True,
        "middleware": ["shopapp.demo.middleware.demo_admin_frame"],
        "urlconf": "shopapp.demo.urls",
        "command": True,
        "routed": list(DEMO_PATHS),
        # Still off in a process without the demo's proxy: `manage.py demo` itself serves nothing.
        "statuses": dict.fromkeys(DEMO_PATHS, 404),
    }


def test_the_tests_install_the_demo_as_its_switch_does(tmp_path: Path, settings: Any) -> None:
    """tests/conftest.py:demo_app applies settings.DEMO_SETTINGS, which are SLIPSTREAM_DEMO's."""
    names = ("INSTALLED_APPS", "MIDDLEWARE", "ROOT_URLCONF")
    code = "import json, django; django.setup(); from django.conf import settings as s\n"
    code += f"print(json.dumps({{n: getattr(s, n) for n in {names!r}}}))"
    result = python_run(code, env={**DEV, "SLIPSTREAM_DEMO": "true"}, var_dir=tmp_path)
    assert json.loads(result.stdout) == {n: settings.DEMO_SETTINGS[n] for n in names}
    assert "shopapp.demo" not in settings.INSTALLED_APPS  # this session's own: without the demo


@pytest.mark.parametrize(
    "where",
    [
        {"SLIPSTREAM_ENV": "production"},
        {**DEV, "SHOPIFY_APP_URL": "https://dev.example.com", "DJANGO_SECRET_KEY": "k" * 50},
    ],
    ids=["production", "development-off-loopback"],
)
def test_the_demo_is_refused_outside_local_development(
    tmp_path: Path, where: dict[str, str]
) -> None:
    own = {"DJANGO_SECRET_KEY": "k" * 50, "SHOPIFY_API_KEY": "id", "SHOPIFY_API_SECRET": "secret"}
    production = {
        "SHOPIFY_TOKEN_KEYS": "GRyDcWhJB4MwSOM6mbT7vFoljWvJ3kB8DPnoG2zHuVE=",
        "REDIS_URL": "redis://127.0.0.1:6379/0",
        "SHOPIFY_APP_URL": "https://app.example",
    }
    env = {**own, **production, **where, "SLIPSTREAM_DEMO": "true"}
    result = python_run("import django; django.setup()", env=env, var_dir=tmp_path)
    assert result.returncode != 0
    assert "SLIPSTREAM_DEMO is for `make demo` only" in result.stderr


def test_the_demo_app_proxy_serves_only_an_installed_demo(tmp_path: Path) -> None:
    secret = demo_secret_get(path=tmp_path / "demo-secret")
    env = {**DEV, "SLIPSTREAM_DEMO_APP_PROXY": "true", "SHOPIFY_API_SECRET": secret}
    result = python_run("import django; django.setup()", env=env, var_dir=tmp_path)
    assert result.returncode != 0
    assert "SLIPSTREAM_DEMO_APP_PROXY serves the demo, which SLIPSTREAM_DEMO installs" in (
        result.stderr
    )
    ok = python_run(
        "import django; django.setup()", env=env | {"SLIPSTREAM_DEMO": "1"}, var_dir=tmp_path
    )
    assert (ok.returncode, ok.stderr) == (0, "")


def test_make_demo_runs_the_demo_command_with_the_demo_on() -> None:
    # PY stands in for the venv's python: it prints what `$(PY) manage.py demo` would run with.
    # (REDIS_URL set: the recipe then installs no redis-server; `-o install` skips the install.)
    result = subprocess.run(
        ["make", "-s", "-o", "install", "demo", "PY=printenv SLIPSTREAM_DEMO SLIPSTREAM_ENV; echo"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "REDIS_URL": "redis://127.0.0.1:9/0"},
    )
    assert (result.returncode, result.stdout.split("\n")) == (
        0,
        ["true", "development", "manage.py demo", ""],
    )
