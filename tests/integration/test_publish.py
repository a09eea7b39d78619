"""Customers' recommendations reach Shopify metaobjects through real worker processes, against a
stand-in Shopify that throttles, answers 429 and 500 and drops connections: every upsert
arrives, none takes effect twice, and each customer's metafield points to their entry."""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path

import pytest
from django.test import Client

from recommender.popularity import Popularity, PopularityConfig
from recommender.types import Interaction as Seen
from shopapp.demo.tp2 import payload, product_event
from shopapp.processes import wait_until
from shopapp.recs.metaobjects import metaobject_handle
from shopapp.recs.store import recs_read
from shopapp.redis import get_redis
from shopapp.shops.models import Shop
from tests.conftest import shop_model_serve
from tests.fakeshopify import FakeShopify
from tests.tp2 import proxy_tp2_path
from tests.workers_process import pipeline_processes, worker_env

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

CUSTOMERS = [str(7_100_000 + n) for n in range(6)]  # Shopify's ids, as the app proxy signs them


def _register_champion(shop: str, tracking_uri: str, artifacts: Path) -> None:
    seen = [
        Seen(user_id=f"past-{n}", item_id=str(200 + n % 8), interaction="view", ts=1.7e9)
        for n in range(40)
    ]
    shop_model_serve(
        shop,
        Popularity.fit(seen, PopularityConfig()),
        tracking_uri=tracking_uri,
        artifact_location=str(artifacts),
    )


def test_throttled_upserts_all_arrive_once(installed: str, fake: FakeShopify, tmp_path: Path):
    tracking_uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    _register_champion(installed, tracking_uri, tmp_path / "artifacts")
    env = {**worker_env(mlflow_uri=tracking_uri), "SHOPIFY_ORIGIN_OVERRIDE": fake.origin}
    fake.faults += ["throttle", "429", "500", "drop"]
    fake.bucket_maximum, fake.bucket_restore = 40.0, 30.0  # a tight bucket: pacing is needed
    key = Shop.objects.values_list("tracking_key", flat=True).get(domain=installed)

    with pipeline_processes(env=env, log_dir=tmp_path, queues="ingest,recommend,publish"):
        for n, customer in enumerate(CUSTOMERS):  # logged in: the app proxy names them
            event = product_event(shop=installed, item=str(201 + n % 3), duid=str(uuid.uuid4()))
            response = Client().post(
                proxy_tp2_path(installed, customer), payload(event), content_type="application/json"
            )
            assert response.status_code == 200
        anonymous = product_event(shop=installed, item="201", duid=str(uuid.uuid4()))
        response = Client().post(
            f"/t/{key}/com.snowplowanalytics.snowplow/tp2",
            payload(anonymous),
            content_type="application/json",
        )
        assert response.status_code == 200

        wait_until(
            lambda: (
                len(fake.entries(installed)) >= len(CUSTOMERS)
                and len(fake.customer_metafields(installed)) >= len(CUSTOMERS)
            ),
            what="every customer's entry and metafield",
            timeout=90,
        )
        time.sleep(1.0)  # anything still in flight would land now

    entries = fake.entries(installed)
    assert sorted(entries) == sorted(metaobject_handle(f"c:{c}") for c in CUSTOMERS)
    assert fake.customer_metafields(installed) == {
        f"gid://shopify/Customer/{c}": {
            "app--4242.recommendations": {
                "type": "metaobject_reference",
                "value": entries[metaobject_handle(f"c:{c}")]["id"],
            }
        }
        for c in CUSTOMERS
    }
    r = get_redis()
    for customer in CUSTOMERS:
        stored = recs_read(r=r, shop=installed, user_id=f"c:{customer}")
        assert stored is not None
        assert stored.items
        fields = entries[metaobject_handle(f"c:{customer}")]["fields"]
        assert json.loads(fields["products"]) == [
            f"gid://shopify/Product/{p}" for p in stored.items
        ]
        assert fields["model_version"] == stored.model_version
    upserts = [handle for _, kind, handle in fake.effects if kind == "metaobjectUpsert"]
    assert sorted(upserts) == sorted(entries)  # each customer's upsert took effect exactly once
    pointed = [owner for _, kind, owner in fake.effects if kind == "metafieldsSet"]
    assert sorted(pointed) == sorted(fake.customer_metafields(installed))  # and their pointer
    assert not fake.faults  # every fault was met, and got through
