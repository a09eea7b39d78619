"""The embedded dashboard in headless Chromium, with session tokens signed with the test secret
(as the admin would mint them). Shopify's CDN is unreachable here, so this is also the page
without App Bridge and Polaris: it must stay readable and usable. Screenshots are kept in
var/test-artifacts/dashboard/."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from django.conf import settings as django_settings

from recommender import registry
from recommender.popularity import Popularity, PopularityConfig
from shopapp.events.normalise import InteractionRecord
from shopapp.events.rejections import rejections_record
from shopapp.events.services import interactions_ingest
from shopapp.recs.services import products_upsert, recommendations_refresh
from shopapp.shops.models import Shop, ShopSettings
from tests.fakeshopify import FakeShopify, session_token

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ARTIFACTS = Path(django_settings.BASE_DIR) / "var" / "test-artifacts" / "dashboard"


def _url(live_server: Any, path: str, shop: str) -> str:
    token = session_token(
        shop, secret=django_settings.SHOPIFY_API_SECRET, aud=django_settings.SHOPIFY_API_KEY
    )
    query = urlencode({"embedded": "1", "shop": shop, "host": "aG9zdA", "id_token": token})
    return f"{live_server.url}{path}?{query}"


def _shot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


@pytest.fixture
def store(installed: str, settings: Any, tmp_path: Path) -> str:
    """An installed shop with a catalogue, a registered model, events and a rejected one."""
    settings.MLFLOW_TRACKING_URI = f"sqlite:///{tmp_path / 'mlflow.db'}"
    settings.MLFLOW_ARTIFACT_ROOT = str(tmp_path / "artifacts")
    products_upsert(
        shop=installed,
        products=[
            {"product_id": str(n), "handle": f"p{n}", "title": f"P{n}", "price": "10"}
            for n in range(1, 7)
        ],
    )
    registry.log_and_register(
        model=Popularity.from_scores(
            config=PopularityConfig(), scores={str(n): 10.0 - n for n in range(1, 7)}
        ),
        metrics={"hr_at_10": 0.5, "ndcg_at_10": 0.25},
        params={},
        tracking_uri=settings.MLFLOW_TRACKING_URI,
        artifact_location=settings.MLFLOW_ARTIFACT_ROOT,
        namespace=Shop.objects.get(domain=installed).model_namespace,
    )
    ShopSettings.objects.filter(shop__domain=installed).update(serving_kind="popularity")
    now = time.time()
    interactions_ingest(
        shop=installed,
        records=[
            InteractionRecord(
                shop=installed,
                user_id=f"v{n}",
                item_id="1",
                interaction="view",
                ts=now - n,
                event_id=f"e{n}",
            )
            for n in range(3)
        ],
    )
    rejections_record(shop=installed, rejected=[("invalid product id", {"e": "ue", "pr": "x"})])
    return installed


def test_each_page_renders_real_data_without_the_cdn(browser: Any, live_server: Any, store: str):
    page = browser.new_page()
    page.route("https://cdn.shopify.com/**", lambda route: route.abort())  # as if blocked

    page.goto(_url(live_server, "/app", store))
    assert page.locator("[data-figure=events_last_minute]").inner_text().strip() in ("2", "3")
    assert page.locator("[data-figure=active_shoppers]").inner_text().strip() == "3"
    namespace = Shop.objects.get(domain=store).model_namespace
    assert (
        page.locator("[data-figure=model]")
        .inner_text()
        .startswith(f"slipstream-{namespace}-popularity v1")
    )
    checklist = page.locator("#checklist li")
    assert checklist.count() == 4
    assert "Events arriving" in checklist.nth(0).inner_text()
    # Events per minute: a y axis in events / min from 0, a UTC time axis ending at "now", and
    # this minute's events labelled at the line's end. No list served yet: it says what to do.
    events = page.locator("[data-chart=events]")
    assert events.locator(".chart__unit").text_content() == "events / min"
    # The three events fall in this minute, or two in it and one in the minute before.
    assert events.locator(".chart__tick--y").all_text_contents() in (
        ["0", "2", "4"],
        ["0", "1", "2"],
    )
    ticks = events.locator(".chart__tick--x").all_text_contents()
    assert ticks[-1] == "now"
    assert all(re.fullmatch(r"\d\d:\d\d", t) for t in ticks[:-1])
    assert events.locator(".chart__tz").text_content() == "UTC"
    current = events.locator(".chart__current tspan").all_text_contents()
    assert current in (["3", "this minute"], ["2", "this minute"], ["1", "this minute"])
    served = page.locator("[data-chart=served] .chart__empty")
    assert served.inner_text().startswith("No recommendation lists served in the last 24 hours")
    assert "Add the recommendations block to your product page" in served.inner_text()
    _shot(page, "overview")

    page.goto(_url(live_server, "/app/models", store))
    assert "champion" in page.locator("tr[data-kind=popularity][data-version='1']").inner_text()
    assert page.locator("#serving").inner_text().startswith("popularity (version 1)")
    _shot(page, "models")

    page.goto(_url(live_server, "/app/data", store))
    assert page.locator("#latest tbody tr").count() == 3
    assert "invalid product id" in page.locator("#rejected").inner_text()
    _shot(page, "data")


def test_a_shop_without_events_yet_is_told_what_to_do(
    browser: Any, live_server: Any, installed: str
):
    page = browser.new_page()
    page.goto(_url(live_server, "/app", installed))
    empty = page.locator(".chart__empty").all_inner_texts()
    assert len(empty) == 2
    assert page.locator("svg.chart__svg").count() == 0
    assert empty[0].startswith("No shopper events in the last hour yet.")
    assert "Turn on the Slipstream tracker in your theme" in empty[0]
    assert empty[1].startswith("No recommendation lists served in the last 24 hours yet.")
    _shot(page, "overview-empty")


def test_a_settings_change_round_trips_and_changes_the_next_list(
    browser: Any, live_server: Any, store: str
):
    page = browser.new_page()
    page.goto(_url(live_server, "/app/settings", store))
    page.fill("input[name=recommendation_count]", "3")
    page.fill("input[name=excluded_product_ids]", "2, 4")
    page.click("form#settings button[type=submit]")
    status = page.locator("#settings-status")
    status.filter(has_text="Saved").wait_for(timeout=10_000)
    _shot(page, "settings-saved")

    saved = ShopSettings.objects.get(shop__domain=store)
    assert (saved.recommendation_count, saved.excluded_product_ids) == (3, ["2", "4"])
    interactions_ingest(
        shop=store,
        records=[
            InteractionRecord(
                shop=store,
                user_id="shopper",
                item_id="1",
                interaction="view",
                ts=time.time(),
                event_id="s1",
            )
        ],
    )
    recs = recommendations_refresh(shop=store, user_ids=["shopper"])["shopper"]
    assert recs.items == ["3", "5", "6"]  # three, without the viewed 1 and the excluded 2 and 4

    page.fill("input[name=recommendation_count]", "99")
    page.click("form#settings button[type=submit]")
    status.filter(has_text="Not saved").wait_for(timeout=10_000)
    assert "recommendation_count" in status.inner_text()
    assert ShopSettings.objects.get(shop__domain=store).recommendation_count == 3


def test_import_reports_each_bad_row(browser: Any, live_server: Any, store: str, tmp_path: Path):
    upload = tmp_path / "history.csv"
    upload.write_text(
        "user_id,item_id,interaction_type,timestamp\n"
        "u1,1,view,1767225600\nu1,2,teleport,1767225601\nu2,3,purchase,1767225602\n"
    )
    page = browser.new_page()
    page.goto(_url(live_server, "/app/data", store))
    page.set_input_files("input[name=file]", str(upload))
    page.click("form#import button[type=submit]")
    page.locator("#import-status").filter(has_text="rows imported").wait_for(timeout=10_000)
    assert page.locator("#import-status").inner_text() == "2 of 3 rows imported, 1 rejected."
    assert page.locator("#import-errors tbody tr").inner_text().split("\t")[0].strip() == "3"
    _shot(page, "import")


def test_a_missing_or_invalid_token_is_refused(
    browser: Any, live_server: Any, store: str, fake: FakeShopify
):
    page = browser.new_page()
    forged = session_token(store, secret="another-secret-of-sufficient-length!!", aud="x")
    response = page.goto(
        f"{live_server.url}/app/settings?"
        + urlencode({"embedded": "1", "shop": store, "host": "aG9zdA", "id_token": forged})
    )
    assert response is not None
    assert page.url.startswith(f"{live_server.url}/auth/patch-id-token?")  # bounced for a new one
    assert "Recommendations" not in page.content()

    api = page.request.post(
        f"{live_server.url}/app/api/settings",
        headers={"Authorization": f"Bearer {forged}"},
        form={"recommendation_count": "1"},
    )
    assert api.status == 401
    assert api.headers["x-shopify-retry-invalid-session-request"] == "1"
    no_token = page.request.post(f"{live_server.url}/app/api/settings", form={"x": "1"})
    assert no_token.status == 401
