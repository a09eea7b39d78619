from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.test import override_settings
from pytest_django.live_server_helper import LiveServer

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
# Without the background-networking flags Chromium keeps dialling Google on this closed network.
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="package")
def live_server(request: pytest.FixtureRequest) -> Iterator[LiveServer]:
    """pytest-django's live server, for these tests only, with the demo installed (as
    SLIPSTREAM_DEMO installs it: shopapp/settings.py:DEMO_SETTINGS) from before the server loads
    its middleware until the last of them; the rest of the session runs without the demo."""
    addr = (
        request.config.getvalue("liveserver")
        or os.getenv("DJANGO_LIVE_TEST_SERVER_ADDRESS")
        or "localhost"
    )
    with override_settings(**django_settings.DEMO_SETTINGS):
        server = LiveServer(addr)
        yield server
        server.stop()


@pytest.fixture(autouse=True)
def _demo_on(settings: Any) -> None:
    """The demo storefront and its signing app proxy, on as `manage.py demo` turns them on for its
    processes: signing with the secret the app verifies with."""
    settings.DEMO_APP_PROXY = True
    settings.DEMO_APP_PROXY_SECRET = settings.SHOPIFY_API_SECRET


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    # Playwright's sync API keeps an event loop running in this thread; Django then refuses ORM
    # calls from it (meant for async views). The test's ORM calls are plain synchronous ones.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    if not shutil.which(CHROMIUM):
        if os.environ.get("CI") == "true":
            pytest.fail(f"{CHROMIUM} is required under CI=true (.ci/run installs it)")
        pytest.skip(f"no Chromium at {CHROMIUM}: apt-get install chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(autouse=True)
def _close_pages(request: pytest.FixtureRequest) -> Iterator[None]:
    """Each test's pages close when it ends: an open dashboard page polls the live server every
    10 s, and its requests would otherwise log into later tests (a flaky caplog assertion once)."""
    yield
    if "browser" in request.fixturenames:
        for context in request.getfixturevalue("browser").contexts:
            context.close()
