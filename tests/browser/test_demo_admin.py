"""The demo as a merchant and a shopper see it, in headless Chromium: the stand-in admin framing
the real embedded dashboard (each page, with the stand-in's session tokens), the dashboard
following the simulated shoppers live, and the storefront block with the catalogue's images.

Screenshots go to var/test-artifacts/ (storefront-block.png, dashboard-overview.png, and
admin-<page>.png); docs/images/ holds copies of the first two for the README.
"""

from __future__ import annotations

import re
import threading
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
from django.conf import settings as django_settings

from recommender.synthetic import Product as SyntheticProduct
from shopapp.demo.proxy import DEMO_SHOP
from shopapp.demo.seed import demo_seed, demo_train
from shopapp.demo.shoppers import shoppers_run
from shopapp.recs.champions import decision_latest, serving_model_get
from shopapp.recs.services import popular_refresh
from shopapp.shops.models import Shop, ShopSettings
from tests.browser.pages import wait_until
from tests.workers_process import pipeline_processes, worker_env

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ARTIFACTS = Path(django_settings.BASE_DIR) / "var" / "test-artifacts"
VIEWPORT = {"width": 1280, "height": 900}
CLOCK = re.compile(r"^\d\d:\d\d$")


@pytest.fixture
def demo_store(settings: Any, tmp_path: Path) -> list[SyntheticProduct]:
    """What `make demo` sets up before it starts anything: the store, its history, its models
    (popularity, co-visitation and SASRec, the best serving)."""
    settings.MLFLOW_TRACKING_URI = f"sqlite:///{tmp_path / 'mlflow.db'}"
    settings.MLFLOW_ARTIFACT_ROOT = str(tmp_path / "artifacts")
    products = demo_seed(shop=DEMO_SHOP, say=lambda _: None)
    demo_train(shop=DEMO_SHOP, say=lambda _: None)
    popular_refresh(shop=DEMO_SHOP)
    return products


def _shot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"))


def _open(page: Any, nav: str) -> Any:
    """Click the admin's nav item `nav`; the frame, once its new page has loaded. (Clicking the
    page already shown reloads it too: waiting only for the nav's mark would read the old page
    while the new one replaces it.)"""
    with page.expect_event(
        "framenavigated", predicate=lambda frame: frame.parent_frame is not None
    ) as navigated:
        page.locator("#app-nav a", has_text=nav).click()
    navigated.value.wait_for_load_state("load")
    wait_until(
        page,
        lambda: page.locator("#app-nav a[aria-current=page]").inner_text() == nav,
        f"the admin's nav to mark {nav}",
    )
    return page.frame_locator("#app")


def test_the_stand_in_admin_frames_every_page_of_the_dashboard(
    browser: Any, live_server: Any, demo_store: list[SyntheticProduct]
) -> None:
    page = browser.new_page(viewport=VIEWPORT)
    page.goto(f"{live_server.url}/demo/admin/")
    app = page.frame_locator("#app")

    # Overview: the real page, signed in with the stand-in's token, on the demo's data.
    checklist = app.locator("#checklist li")
    checklist.first.wait_for()
    assert checklist.count() == 4
    assert "48 products" in checklist.nth(2).inner_text()
    serving = serving_model_get(shop=DEMO_SHOP)
    assert serving is not None
    assert app.locator("[data-figure=model]").inner_text() == f"{serving.name} v{serving.version}"
    assert app.locator("[data-chart=events] .chart__unit").text_content() == "events / min"
    assert app.locator("[data-chart=events] .chart__tick--x").last.text_content() == "now"
    assert page.locator("#app-nav a[aria-current=page]").inner_text() == "Overview"
    _shot(page, "admin-overview")

    # Settings: a change saved through the frame, with a token the stand-in handed it fresh.
    app = _open(page, "Settings")
    page_token = parse_qs(urlsplit(page.frame(name="app").url).query)["id_token"][0]
    used: list[str] = []

    def saw(request: Any) -> None:
        if request.url.endswith("/app/api/settings"):
            used.append(request.headers["authorization"])

    page.on("request", saw)
    app.locator("input[name=recommendation_count]").fill("6")
    app.locator("form#settings button[type=submit]").click()
    app.locator("#settings-status").filter(has_text="Saved").wait_for(timeout=10_000)
    assert ShopSettings.objects.get(shop__domain=DEMO_SHOP).recommendation_count == 6
    fresh = used[0].removeprefix("Bearer ")
    assert fresh != page_token
    claims = jwt.decode(
        fresh,
        django_settings.SHOPIFY_API_SECRET,
        algorithms=["HS256"],
        audience=django_settings.SHOPIFY_API_KEY,
    )
    assert (claims["iss"], claims["dest"], claims["aud"]) == (
        f"https://{DEMO_SHOP}/admin",
        f"https://{DEMO_SHOP}",
        django_settings.SHOPIFY_API_KEY,
    )
    assert claims["exp"] - claims["iat"] == 60
    _shot(page, "admin-settings")

    # Models: every kind trained, each version 1 the newest candidate and, promoted by the
    # retraining gate (no champion before it), the champion; the one serving, and why.
    app = _open(page, "Models")
    for kind in ("popularity", "covisit", "sasrec"):
        row = app.locator(f"tr[data-kind={kind}][data-version='1']")
        assert row.locator("td").nth(1).inner_text() == "challenger, champion"
    assert f"{serving.kind} (serving)" in app.locator("h2").all_inner_texts()
    decision = decision_latest(shop=DEMO_SHOP)
    assert decision is not None
    assert decision.reason in app.locator("#serving").inner_text()
    assert app.locator("#decision tbody tr").count() == 3
    _shot(page, "admin-models")

    # Data: the imported history's newest events.
    app = _open(page, "Data")
    assert app.locator("#latest tbody tr").count() == 50
    assert app.locator("#rejected tbody").inner_text().strip() == "None."
    assert page.url == f"{live_server.url}/demo/admin/data"
    _shot(page, "admin-data")

    # The app's own links inside the frame work too: the stand-in gives the document its token.
    app.locator("nav.fallback-nav a", has_text="Overview").click()
    wait_until(
        page,
        lambda: page.locator("#app-nav a[aria-current=page]").inner_text() == "Overview",
        "the admin's nav to follow the frame",
    )
    assert page.url == f"{live_server.url}/demo/admin/"
    app.locator("#checklist li").first.wait_for()


@pytest.mark.integration
def test_the_merchant_sees_the_simulated_shoppers_live(
    browser: Any, live_server: Any, demo_store: list[SyntheticProduct], tmp_path: Path
) -> None:
    page = browser.new_page(viewport=VIEWPORT)
    page.goto(f"{live_server.url}/demo/admin/")
    app = page.frame_locator("#app")
    figure, served = (
        app.locator(f"[data-figure={f}]") for f in ("events_last_minute", "served_24h")
    )
    # Redis outlives the test's database: other tests may have served the demo shop lists.
    before, served_before = int(figure.inner_text()), int(served.inner_text())
    key = Shop.objects.values_list("tracking_key", flat=True).get(domain=DEMO_SHOP)
    stop = threading.Event()
    env = worker_env(mlflow_uri=django_settings.MLFLOW_TRACKING_URI)
    with pipeline_processes(env=env, log_dir=tmp_path, queues="ingest,recommend"):
        shoppers = threading.Thread(
            target=shoppers_run,
            kwargs={
                "endpoint": f"{live_server.url}/t/{key}",
                "shop": DEMO_SHOP,
                "products": demo_store,
                "stop": stop,
                "storefront": live_server.url,
            },
        )
        shoppers.start()
        try:
            # The page refreshes every 10 s, each time with a token from the stand-in; the
            # shoppers' product pages load the block's lists through the app proxy.
            wait_until(
                page,
                lambda: (
                    int(figure.inner_text()) >= before + 5
                    and int(served.inner_text()) >= served_before + 3
                ),
                "live events and lists served",
                timeout=60,
            )
        finally:
            stop.set()
            shoppers.join(timeout=10)
    # The merchant opens the overview again: the checklist sees the block serving lists now.
    app = _open(page, "Overview")
    step = app.locator("#checklist li").nth(1)
    wait_until(page, lambda: step.inner_text().startswith("✓"), "the block's step done")
    assert "Add the recommendations block" in step.inner_text()
    assert int(app.locator("[data-figure=impressions]").inner_text()) >= 1
    chart = app.locator("[data-chart=events]")
    ticks = chart.locator(".chart__tick--x").all_text_contents()
    assert ticks[-1] == "now"
    assert all(CLOCK.match(t) for t in ticks[:-1])
    assert len(ticks) >= 4
    assert chart.locator(".chart__tick--y").first.text_content() == "0"
    # The shoppers stopped seconds ago: their last events are in this minute's bucket, or in
    # the last one's if a minute began since (so the current value alone may read 0).
    buckets = [
        float(title.split(": ")[1].split()[0].replace(",", ""))
        for title in chart.locator(".chart__hit title").all_text_contents()
    ]
    current = chart.locator(".chart__current-value").text_content() or ""
    assert float(current.replace(",", "")) == buckets[-1]
    assert max(buckets[-2:]) >= 1
    lists = app.locator("[data-chart=served]")
    assert lists.locator(".chart__unit").text_content() == "lists / hour"
    assert lists.locator(".chart__current tspan").all_text_contents()[1] == "this hour"
    _shot(page, "dashboard-overview")


def test_the_storefront_block_shows_the_products_images(
    browser: Any, live_server: Any, demo_store: list[SyntheticProduct]
) -> None:
    page = browser.new_page(viewport={"width": 1100, "height": 820})
    page.goto(f"{live_server.url}/demo/store/")
    images = page.locator("#slipstream-recs-home .slipstream-recs__media img")
    wait_until(page, lambda: images.count() == 4, "the block's four cards")
    wait_until(
        page,
        lambda: all(images.evaluate_all("els => els.map(e => e.complete && e.naturalWidth > 0)")),
        "the cards' images to load",
    )
    sources = images.evaluate_all("els => els.map(e => new URL(e.src).pathname)")
    ids = page.locator("#slipstream-recs-home a[data-ss-item]").evaluate_all(
        "els => els.map(e => e.dataset.ssItem)"
    )
    assert sources == [f"/demo/images/{i}.svg" for i in ids]
    titles = {p.item_id: p.title for p in demo_store}
    assert images.evaluate_all("els => els.map(e => e.alt)") == [titles[i] for i in ids]
    svg = page.request.get(f"{live_server.url}{sources[0]}")
    assert svg.headers["content-type"] == "image/svg+xml"
    assert titles[ids[0]] in svg.text()
    _shot(page, "storefront-block")
