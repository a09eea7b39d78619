"""The thinnest slice with every part real: the Snowplow Python tracker posts tp2 to the live
collector → a Celery worker process ingests into the shopper's Redis window and PostgreSQL history →
the popularity model registered in MLflow as @champion ranks → recommendations in Redis → the
signed app-proxy GET returns them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from snowplow_tracker import EmitterConfiguration, SelfDescribingJson, Snowplow, Subject
from snowplow_tracker.events import PageView, SelfDescribing

from recommender.popularity import Popularity, PopularityConfig
from recommender.types import Interaction as Seen
from shopapp.demo.tp2 import ACTION, PRODUCT
from shopapp.events.models import Interaction
from shopapp.events.window import window_read
from shopapp.processes import wait_until
from shopapp.recs.services import products_upsert
from shopapp.redis import get_redis
from shopapp.shopify.signatures import app_proxy_sign
from shopapp.shops.models import Shop, ShopSettings
from tests.conftest import shop_model_serve
from tests.tp2 import duid_for
from tests.workers_process import pipeline_processes, worker_env
from workers.tasks import popular_refresh_all

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

# Popularity of the training history: 105 > 101 > 104 > 103 > 102.
HISTORY = {"105": 5, "101": 4, "104": 3, "103": 2, "102": 1}


def _register_champion(shop: str, tracking_uri: str, artifacts: Path) -> str:
    seen = [
        Seen(user_id=f"past-{item}-{n}", item_id=item, interaction="view", ts=1_700_000_000.0)
        for item, count in HISTORY.items()
        for n in range(count)
    ]
    model = Popularity.fit(seen, PopularityConfig())
    return shop_model_serve(
        shop, model, tracking_uri=tracking_uri, artifact_location=str(artifacts)
    )


def _track_two_product_views(endpoint: str, shop: str) -> None:
    tracker = Snowplow.create_tracker(
        namespace="t",
        endpoint=endpoint,
        app_id=shop,
        emitter_config=EmitterConfiguration(batch_size=3),
    )
    subject = Subject().set_platform("web").set_domain_user_id(duid_for("visitor-1"))
    tracker.track(PageView(page_url=f"https://{shop}/", event_subject=subject))
    for item, price in (("101", 12.5), ("103", 30.0)):
        tracker.track(
            SelfDescribing(
                SelfDescribingJson(ACTION, {"type": "product_view"}),
                context=[
                    SelfDescribingJson(
                        PRODUCT,
                        {"id": item, "category": "shoes", "price": price, "currency": "USD"},
                    )
                ],
                event_subject=subject,
            )
        )
    tracker.flush()


def _poll_proxy(shop: str, visitor: str, timeout: float = 45.0) -> dict[str, Any]:
    """The app proxy's first answer for `visitor` with recommendations in it."""
    answers: list[dict[str, Any]] = []

    def served() -> bool:
        query = app_proxy_sign(
            params={
                "shop": shop,
                "logged_in_customer_id": "",
                "path_prefix": "/apps/slipstream",
                "visitor": visitor,
            },
            secret=settings.SHOPIFY_API_SECRET,
        )
        answers.append(Client().get(f"/proxy/recommendations?{query}").json())
        return bool(answers[-1]["items"])

    wait_until(served, what="recommendations to reach the app proxy", timeout=timeout)
    return answers[-1]


def test_tracker_event_becomes_a_recommendation_served_by_the_app_proxy(
    live_server: Any, shop: str, tracking_key: str, tmp_path: Path
) -> None:
    ShopSettings.objects.filter(shop__domain=shop).update(recommendation_count=3)
    products_upsert(
        shop=shop,
        products=[  # 104 is out of stock: never to be offered
            {
                "product_id": pid,
                "handle": f"p{pid}",
                "title": f"P{pid}",
                "price": "10",
                "available": pid != "104",
            }
            for pid in HISTORY
        ],
    )
    tracking_uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    version = _register_champion(shop, tracking_uri, tmp_path / "artifacts")
    env = worker_env(mlflow_uri=tracking_uri)

    with pipeline_processes(env=env, log_dir=tmp_path, queues="ingest,recommend"):
        _track_two_product_views(f"{live_server.url}/t/{tracking_key}", shop)
        body = _poll_proxy(shop, duid_for("visitor-1"))
        popular_refresh_all.delay()  # what beat runs every minute
        newcomer = _poll_proxy(shop, duid_for("first-visit"))

    # The two viewed products and the out-of-stock one are excluded; the rest by popularity.
    assert [i["item_id"] for i in body["items"]] == ["105", "102"]
    assert [i["score"] for i in body["items"]] == [5.0, 1.0]
    assert [i["title"] for i in body["items"]] == ["P105", "P102"]  # joined with the catalogue
    namespace = Shop.objects.get(domain=shop).model_namespace
    assert body["model_version"] == f"slipstream-{namespace}-popularity/{version}"
    # A shopper with no history of their own gets the shop-wide list, still without 104.
    assert [i["item_id"] for i in newcomer["items"]] == ["105", "101", "103"]
    visitor = f"v:{duid_for('visitor-1')}"
    window = window_read(r=get_redis(), shop=shop, user_id=visitor)
    assert [(e.item_id, e.interaction) for e in window] == [("101", "view"), ("103", "view")]
    history = Interaction.objects.filter(shop__domain=shop).order_by("ts", "item_id")
    assert list(history.values_list("user_id", "item_id", "interaction")) == [
        (visitor, "101", "view"),
        (visitor, "103", "view"),
    ]
