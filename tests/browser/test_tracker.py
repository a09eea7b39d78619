"""tracker.js in headless Chromium on the demo storefront (the theme extension's real assets),
through the signed app-proxy path, into a real Celery worker, Redis and the database."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from shopapp.demo.proxy import DEMO_SHOP
from shopapp.events.models import Interaction
from shopapp.recs.services import products_upsert
from shopapp.shops.services import shop_install
from tests.brokers import queue_down
from tests.browser.pages import wait_until
from tests.workers_process import pipeline_processes, worker_env

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def _history(visitor: str) -> Counter[tuple[str, str]]:
    rows = Interaction.objects.filter(shop__domain=DEMO_SHOP, user_id=visitor)
    return Counter(rows.values_list("item_id", "interaction"))


def test_views_and_add_to_cart_arrive_exactly_once_through_a_collector_outage(
    browser: Any, live_server: Any, tmp_path: Path
) -> None:
    shop_install(domain=DEMO_SHOP)
    products_upsert(
        shop=DEMO_SHOP,
        products=[
            {
                "product_id": "101",
                "handle": "red-shoe",
                "title": "Red shoe",
                "price": "40.00",
                "category": "Shoes",
            }
        ],
    )
    page = browser.new_page()
    answers: list[int] = []
    sent: Counter[str] = Counter()  # how often each event id went out
    page.on("response", lambda r: answers.append(r.status) if "/proxy/tp2" in r.url else None)
    page.on(
        "request",
        lambda r: (
            sent.update(e["eid"] for e in json.loads(r.post_data or "{}").get("data", []))
            if "/apps/slipstream/tp2" in r.url and r.method == "POST"
            else None
        ),
    )
    env = worker_env(mlflow_uri=f"sqlite:///{tmp_path / 'mlflow.db'}")

    with pipeline_processes(env=env, log_dir=tmp_path, queues="ingest,recommend"):
        with queue_down():  # the collector answers 503 until the block ends
            page.goto(f"{live_server.url}/products/red-shoe")
            wait_until(page, lambda: 503 in answers, "a 503 from the collector")
            page.click("button[type=submit]")  # add to cart: the form posts, the page comes back
            page.wait_for_load_state("load")
            wait_until(
                page, lambda: answers.count(503) >= 3, "the tracker to retry into the outage"
            )
        visitor = "v:" + page.evaluate("window.slipstream.visitorId()")
        expected = Counter({("101", "view"): 2, ("101", "cart"): 1})  # two page loads, one add
        wait_until(
            page, lambda: _history(visitor) == expected, "every interaction downstream", timeout=60
        )
        page.wait_for_timeout(2000)  # let any late resend land: it must change nothing

    assert _history(visitor) == expected
    assert 200 in answers
    assert max(sent.values()) >= 2  # events really were sent more than once...
    assert Interaction.objects.filter(shop__domain=DEMO_SHOP).count() == 3  # ...and counted once
    page.close()
