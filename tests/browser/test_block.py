"""The recommendations block in headless Chromium: a storefront page rendered from the block's real
Liquid (python-liquid, Shopify's filters stubbed: shopapp/demo/liquid.py), the real
recommendations.js and tracker.js, the signed app-proxy path, and real worker processes serving a
registered co-visitation model."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from recommender.covisit import CoVisitation, CoVisitConfig
from recommender.types import Interaction as Seen
from shopapp.demo.proxy import DEMO_SHOP
from shopapp.events.window import window_read
from shopapp.recs.services import popular_refresh, products_upsert
from shopapp.recs.store import recs_read
from shopapp.redis import get_redis
from shopapp.shops.services import shop_install
from tests.browser.pages import wait_until
from tests.conftest import shop_model_serve
from tests.workers_process import pipeline_processes, worker_env

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.django_db(transaction=True)]

CATEGORIES = {"Shoes": range(101, 109), "Hats": range(201, 209), "Lamps": range(301, 309)}


def _store(tracking_uri: str, artifacts: Path) -> dict[str, str]:
    """A catalogue of three categories, and a history where shoppers browse within one category
    (hats are the best sellers overall, so a list that ignored the shopper would open with hats)."""
    category_of = {str(i): c for c, ids in CATEGORIES.items() for i in ids}
    products_upsert(
        shop=DEMO_SHOP,
        products=[
            {
                "product_id": pid,
                "handle": f"p{pid}",
                "title": f"{cat} {pid}",
                "price": "20.00",
                "category": cat,
                "currency": "EUR",
            }
            for pid, cat in category_of.items()
        ],
    )
    seen = []
    for category, ids in CATEGORIES.items():
        sessions = 12 if category == "Hats" else 4
        for s in range(sessions):
            for n, item in enumerate(ids):
                if (n + s) % 2 == 0:
                    seen.append(
                        Seen(f"{category}-{s}", str(item), "view", 1.7e9 + s * 7200 + n * 60)
                    )
    shop_model_serve(DEMO_SHOP, CoVisitation.fit(seen, CoVisitConfig()))
    return category_of


def test_after_three_shoe_views_the_next_page_opens_with_shoes(
    browser: Any, live_server: Any, tmp_path: Path, settings: Any
) -> None:
    shop_install(domain=DEMO_SHOP)
    tracking_uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    settings.MLFLOW_TRACKING_URI = tracking_uri
    settings.MLFLOW_ARTIFACT_ROOT = str(tmp_path / "artifacts")
    category_of = _store(tracking_uri, tmp_path / "artifacts")  # co-visitation serves the shop
    popular_refresh(shop=DEMO_SHOP)  # what beat does: the list for shoppers with no history
    env = worker_env(mlflow_uri=tracking_uri)
    page = browser.new_page()

    with pipeline_processes(env=env, log_dir=tmp_path, queues="ingest,recommend"):
        page.goto(f"{live_server.url}/demo/store/")
        first = page.locator("#slipstream-recs-home a[data-ss-item]")
        wait_until(page, lambda: first.count() == 4, "the block on the home page")
        before = [
            category_of[i] for i in first.evaluate_all("els => els.map(e => e.dataset.ssItem)")
        ]
        assert before[0] == "Hats"  # the shop's best sellers, for a shopper it knows nothing of

        for pid in ("101", "102", "103"):
            page.goto(f"{live_server.url}/products/p{pid}")
            page.wait_for_load_state("load")
        visitor = "v:" + page.evaluate("window.slipstream.visitorId()")
        page.goto(f"{live_server.url}/demo/store/")  # leaving the page sends the last view
        wait_until(
            page,
            lambda: len(window_read(r=get_redis(), shop=DEMO_SHOP, user_id=visitor)) == 3,
            "the three views in the shopper's window",
        )
        wait_until(
            page,
            lambda: (
                (recs := recs_read(r=get_redis(), shop=DEMO_SHOP, user_id=visitor)) is not None
                and recs.source.startswith("model:covisit")
            ),
            "the shopper's list to be recomputed",
        )
        page.reload()  # "the next page": rendered after the views were taken in

        cards = page.locator("#slipstream-recs-home a[data-ss-item]")
        wait_until(page, lambda: cards.count() == 4, "the block to fill")
        shown = cards.evaluate_all("els => els.map(e => e.dataset.ssItem)")
        page.screenshot(path=str(tmp_path / "block-after-shoe-views.png"), full_page=True)

    assert [category_of[i] for i in shown[:3]] == ["Shoes"] * 3, shown
    assert not {"101", "102", "103"} & set(shown)  # what they just saw is not offered again
    # Accessible: a list of links, each with its product's name, images with alt text.
    assert page.locator("#slipstream-recs-home ol[role=list] > li").count() == 4
    names = page.locator("#slipstream-recs-home .slipstream-recs__name").all_inner_texts()
    assert all(n.startswith(("Shoes", "Hats", "Lamps")) for n in names)
    assert page.locator("#slipstream-recs-home").get_attribute("aria-busy") == "false"
    prices = page.locator("#slipstream-recs-home .slipstream-recs__price").all_inner_texts()
    assert all("€" in p for p in prices), prices  # the shop's currency
