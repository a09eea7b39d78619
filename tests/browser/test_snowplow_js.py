"""The real Snowplow JS tracker (`@snowplow/browser-tracker` and its ecommerce plugin, pinned in
tests/browser/snowplow_js/), with its default configuration, on a storefront page of its own
origin, sends to the direct collector in headless Chromium: by POST and by GET, credentialed (the
tracker's default), never blocked by CORS, and each event arrives downstream exactly once.

The page is served from `http://127.0.0.1:<port>`, one of the shop's storefront origins; the
collector is the live server at `http://localhost:<port>`: another origin and another site, as a
storefront and the collector are.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import threading
import urllib.request
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest

from shopapp.events.models import Interaction
from shopapp.events.rejections import rejections_list
from shopapp.events.services import tracker_events_ingest
from shopapp.events.stream import Batch
from shopapp.shops.models import Shop
from shopapp.shops.selectors import shop_cache_clear
from tests.browser.pages import wait_until
from tests.tp2 import logged_batches

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.django_db(transaction=True)]

PACKAGE = Path(__file__).resolve().parent / "snowplow_js"
BUNDLE = PACKAGE / "node_modules" / ".cache" / "slipstream" / "page.bundle.js"
PRODUCT = "gid://shopify/Product/101"  # the tracker sends Shopify's GID; history keeps "101"
PAGE = (
    '<!doctype html><html><head><title>Red shoe</title><link rel="icon" href="data:,"></head>'
    '<body><h1>Red shoe</h1><script src="page.bundle.js"></script></body></html>'
)
# Runs before the page's scripts: notes each fetch the tracker makes (it binds `fetch` when it
# is created), with the credentials mode it asked for and how it ended. Observes, changes nothing.
FETCHES = """
window.collectorFetches = [];
const realFetch = window.fetch;
window.fetch = function (input, init) {
  const entry = {
    url: input instanceof Request ? input.url : String(input),
    method: input instanceof Request ? input.method : (init && init.method) || "GET",
    credentials: input instanceof Request ? input.credentials : (init && init.credentials),
    status: null,
    error: null,
  };
  window.collectorFetches.push(entry);
  return realFetch.call(this, input, init).then(
    (response) => { entry.status = response.status; return response; },
    (error) => { entry.error = String(error); throw error; },
  );
};
"""


@pytest.fixture(scope="session")
def bundle() -> Path:
    """page.js bundled with the pinned tracker (`make install` ran `npm ci` in the package)."""
    if not (PACKAGE / "node_modules" / ".bin" / "esbuild").exists() or not shutil.which("npm"):
        if os.environ.get("CI") == "true":
            pytest.fail(f"{PACKAGE}/node_modules is required under CI=true (make install)")
        pytest.skip(f"no {PACKAGE}/node_modules: make install (npm ci there)")
    subprocess.run(["npm", "run", "--silent", "build"], cwd=PACKAGE, check=True)
    return BUNDLE


@pytest.fixture
def storefront(tmp_path: Path, bundle: Path) -> Iterator[str]:
    """The storefront's origin, serving the page and its bundle."""
    (tmp_path / "index.html").write_text(PAGE)
    shutil.copy(bundle, tmp_path / "page.bundle.js")

    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=tmp_path))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(autouse=True)
def _empty_log(empty_event_log: None) -> None:
    """Every test here starts from an empty event log (tests/conftest.py)."""


def _logged(shop: str) -> list[Batch]:
    return logged_batches(shop)


def _events(shop: str) -> list[dict[str, Any]]:
    return [event for batch in _logged(shop) for event in batch.events]


def _all_sent(page: Any, shop: str) -> bool:
    """Three events in the log, and every collector fetch answered or failed."""
    fetches = page.evaluate("window.collectorFetches")
    return len(_events(shop)) >= 3 and all(f["status"] or f["error"] for f in fetches)


@pytest.mark.parametrize("method", ["post", "get"])
def test_the_snowplow_js_tracker_with_its_defaults_reaches_history_exactly_once(
    browser: Any, live_server: Any, storefront: str, shop: str, tracking_key: str, method: str
) -> None:
    Shop.objects.filter(domain=shop).update(storefront_origins=[storefront])
    shop_cache_clear()
    collector = f"{live_server.url}/t/{tracking_key}"
    page = browser.new_page()
    page.add_init_script(FETCHES)
    console: list[str] = []
    page.on("console", lambda m: console.append(m.text) if m.type in ("error", "warning") else None)
    page.on("pageerror", lambda e: console.append(str(e)))
    failed: list[str] = []
    page.on("requestfailed", lambda r: failed.append(f"{r.method} {r.url}: {r.failure}"))
    query = urlencode({"collector": collector, "appId": shop, "method": method, "product": PRODUCT})

    # The live server's first request imports the URL conf (torch included: several seconds),
    # longer than the tracker waits for an answer (5 s) before giving up until its next event.
    urllib.request.urlopen(f"{live_server.url}/health", timeout=60).read()
    page.goto(f"{storefront}/index.html?{query}")
    wait_until(
        page, lambda: bool(console or failed) or _all_sent(page, shop), "the tracker's 3 events"
    )
    page.wait_for_timeout(1000)  # a resend (of an answer the tracker could not read) would land
    fetches = page.evaluate("window.collectorFetches")
    duid = page.evaluate("window.storefront.domainUserId()")
    page.close()

    assert (console, failed) == ([], [])  # a CORS refusal shows here, with its reason
    path = "/com.snowplowanalytics.snowplow/tp2" if method == "post" else "/i?"
    assert {(f["method"], f["credentials"], f["status"], f["error"]) for f in fetches} == {
        (method.upper(), "include", 200, None)
    }
    assert all(f["url"].startswith(collector + path) for f in fetches)
    events = _events(shop)
    assert sorted(e["e"] for e in events) == ["pv", "ue", "ue"]
    assert len({e["eid"] for e in events}) == 3  # each sent once
    assert {(e["aid"], e["duid"]) for e in events} == {(shop, duid)}

    assert tracker_events_ingest(shop=shop, batches=_logged(shop)) == [f"v:{duid}"]
    assert sorted(
        Interaction.objects.filter(shop__domain=shop).values_list(
            "user_id", "item_id", "interaction"
        )
    ) == [(f"v:{duid}", "101", "cart"), (f"v:{duid}", "101", "view")]
    assert rejections_list(shop=shop) == []
