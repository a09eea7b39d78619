"""The dashboard's endpoints at the HTTP boundary (the pages themselves: tests/browser)."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.forms.models import model_to_dict
from django.test import Client

from recommender import registry
from recommender.popularity import Popularity, PopularityConfig
from shopapp.events.models import Interaction
from shopapp.recs.keys import training_lock_key, training_status_key
from shopapp.redis import get_redis
from shopapp.shops.models import Shop, ShopSettings
from shopapp.shops.selectors import shop_config_cached
from shopapp.shops.services import shop_install
from tests.conftest import shop_model_serve
from tests.fakeshopify import FakeShopify, session_token
from workers import tasks

pytestmark = pytest.mark.django_db(transaction=True)


def _bearer(shop: str) -> dict[str, Any]:
    token = session_token(shop, secret=settings.SHOPIFY_API_SECRET, aud=settings.SHOPIFY_API_KEY)
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


@pytest.mark.parametrize("path", ["/app", "/app/settings", "/app/models", "/app/data"])
def test_pages_carry_the_frame_ancestors_policy(
    installed: str, fake: FakeShopify, path: str, settings
):
    settings.MLFLOW_TRACKING_URI = "sqlite:///:memory:"
    token = session_token(
        installed, secret=settings.SHOPIFY_API_SECRET, aud=settings.SHOPIFY_API_KEY
    )
    response = Client().get(f"{path}?" + urlencode({"shop": installed, "id_token": token}))
    assert response.status_code == 200
    assert response["Content-Security-Policy"] == (
        f"frame-ancestors https://{installed} https://admin.shopify.com;"
    )


def test_jsonl_import_reports_lines_not_rows(installed: str, fake: FakeShopify):
    body = "\n".join(
        [
            json.dumps(
                {
                    "user_id": "u1",
                    "item_id": "1",
                    "interaction_type": "view",
                    "timestamp": 1767225600,
                }
            ),
            "{not json",
            "",
            json.dumps(
                {
                    "user_id": "u1",
                    "item_id": "2",
                    "interaction_type": "nope",
                    "timestamp": 1767225601,
                }
            ),
        ]
    )
    response = Client().post(
        "/app/api/import",
        {"file": SimpleUploadedFile("history.jsonl", body.encode())},
        **_bearer(installed),
    )
    assert response.status_code == 200
    assert response.json() == {
        "rows": 3,
        "accepted": 1,
        "rejected": 2,
        "errors": [
            {"line": 2, "reason": "not a JSON line"},
            {"line": 4, "reason": "unknown interaction_type 'nope'"},
        ],
    }
    assert Interaction.objects.filter(shop__domain=installed).count() == 1


def test_bad_uploads_are_clear_4xx(installed: str, fake: FakeShopify):
    headers = _bearer(installed)
    assert Client().post("/app/api/import", {}, **headers).status_code == 400
    no_columns = SimpleUploadedFile("h.csv", b"a,b\n1,2\n")
    response = Client().post("/app/api/import", {"file": no_columns}, **headers)
    assert (response.status_code, response.json()["error"]) == (
        400,
        "missing columns: interaction_type, item_id, timestamp, user_id",
    )
    binary = SimpleUploadedFile("h.csv", b"\xff\xfe\x00")
    assert Client().post("/app/api/import", {"file": binary}, **headers).status_code == 400


def test_promoting_an_unknown_version_is_refused(
    installed: str, fake: FakeShopify, settings, tmp_path
):
    settings.MLFLOW_TRACKING_URI = f"sqlite:///{tmp_path / 'mlflow.db'}"
    response = Client().post(
        "/app/api/models/promote", {"kind": "popularity", "version": "7"}, **_bearer(installed)
    )
    assert response.status_code == 400
    response = Client().post(
        "/app/api/models/promote", {"kind": "nope", "version": "1"}, **_bearer(installed)
    )
    assert response.status_code == 400


@pytest.fixture
def registered(settings, tmp_path, installed: str) -> str:
    """The installed shop's popularity v1 and v2, the serving kind; v2 is the champion. Another
    installed shop has a popularity v1 of its own. Returns the other shop."""
    settings.MLFLOW_TRACKING_URI = f"sqlite:///{tmp_path / 'mlflow.db'}"
    settings.MLFLOW_ARTIFACT_ROOT = str(tmp_path / "artifacts")
    other = "other-merchant.myshopify.com"
    shop_install(domain=other)
    model = Popularity.from_scores(config=PopularityConfig(), scores={"1": 1.0})
    for _ in range(2):
        shop_model_serve(installed, model)
    shop_model_serve(other, model)
    return other


def _champion(shop: str) -> str | None:
    return registry.alias_version(
        kind="popularity",
        alias="champion",
        tracking_uri=settings.MLFLOW_TRACKING_URI,
        namespace=Shop.objects.get(domain=shop).model_namespace,
    )


def test_promoting_a_registered_version_moves_this_shops_champion_only(
    installed: str, fake: FakeShopify, registered: str
):
    response = Client().post(
        "/app/api/models/promote", {"kind": "popularity", "version": "1"}, **_bearer(installed)
    )
    assert (response.status_code, response.json()) == (200, {"champion": "1"})
    assert (_champion(installed), _champion(registered)) == ("1", "1")


def test_a_shops_token_cannot_reach_another_shops_models(
    installed: str, fake: FakeShopify, registered: str
):
    # The other shop has only v1: v2 exists only among the installed shop's models, and the
    # installed shop's token can only ever name its own.
    response = Client().post(
        "/app/api/models/promote", {"kind": "popularity", "version": "2"}, **_bearer(registered)
    )
    assert response.status_code == 400
    assert (_champion(installed), _champion(registered)) == ("2", "1")
    pin = Client().post("/app/api/models/pin", {"kind": "popularity"}, **_bearer(installed))
    assert (pin.status_code, pin.json()) == (200, {"pinned": "popularity"})
    assert ShopSettings.objects.get(shop__domain=registered).pinned_kind == ""
    refused = Client().post("/app/api/models/pin", {"kind": "sasrec"}, **_bearer(installed))
    assert refused.status_code == 400


def test_the_overview_names_the_serving_model_without_loading_it(
    installed: str, fake: FakeShopify, registered: str, monkeypatch: pytest.MonkeyPatch
):
    def load(**_: object) -> None:
        raise AssertionError("the web process loaded a model")

    monkeypatch.setattr(registry, "load", load)
    response = Client().get("/app/api/overview", **_bearer(installed))
    assert response.status_code == 200
    namespace = Shop.objects.get(domain=installed).model_namespace
    assert response.json()["model"] == f"slipstream-{namespace}-popularity v2"


def test_retraining_is_queued_once_per_shop_and_reported(
    installed: str, fake: FakeShopify, monkeypatch: pytest.MonkeyPatch
):
    get_redis().delete(training_status_key(installed), training_lock_key(installed))
    queued: list[dict[str, object]] = []
    monkeypatch.setattr(tasks.shop_models_retrain, "delay", lambda **kwargs: queued.append(kwargs))
    headers = _bearer(installed)
    status = Client().get("/app/api/models/retrain/status", **headers)
    assert status.json() == {"state": "idle"}
    response = Client().post("/app/api/models/retrain", **headers)
    assert (response.status_code, response.json()) == (202, {"state": "queued"})
    assert queued == [{"shop": installed}]
    again = Client().post("/app/api/models/retrain", **headers)  # a second click
    assert (again.status_code, again.json()) == (202, {"state": "already queued"})
    assert queued == [{"shop": installed}]
    status = Client().get("/app/api/models/retrain/status", **headers)
    assert sorted(status.json()) == ["at", "state"]
    assert status.json()["state"] == "queued"
    get_redis().delete(training_status_key(installed), training_lock_key(installed))


def _settings_form(shop: str, **changes: object) -> dict[str, object]:
    current = model_to_dict(ShopSettings.objects.get(shop__domain=shop))
    data = {k: v for k, v in current.items() if v not in (None, False)}
    return data | {"excluded_product_ids": ""} | changes


def test_saved_settings_apply_at_once(installed: str, fake: FakeShopify):
    before = shop_config_cached(domain=installed)  # cached now, for CACHE_TTL_S
    assert before is not None
    assert before.recommendation_count == 10
    response = Client().post(
        "/app/api/settings",
        _settings_form(installed, recommendation_count="4", excluded_product_ids="7, 9, 7"),
        **_bearer(installed),
    )
    assert (response.status_code, response.json()) == (200, {"saved": True})
    config = shop_config_cached(domain=installed)
    assert config is not None
    assert (config.recommendation_count, config.excluded_product_ids) == (4, frozenset({"7", "9"}))
    assert ShopSettings.objects.get(shop__domain=installed).excluded_product_ids == ["7", "9"]


def test_invalid_settings_are_a_400_that_names_the_field(installed: str, fake: FakeShopify):
    response = Client().post(
        "/app/api/settings",
        _settings_form(installed, recommendation_count="11", excluded_product_ids="7, shoes"),
        **_bearer(installed),
    )
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert sorted(errors) == ["excluded_product_ids", "recommendation_count"]
    assert errors["recommendation_count"][0]["message"] == "From 1 to 10 products."
    assert errors["excluded_product_ids"][0]["message"] == "Not product ids: shoes"
    assert ShopSettings.objects.get(shop__domain=installed).recommendation_count == 10


def test_the_latest_events_feed(installed: str, fake: FakeShopify):
    from shopapp.events.normalise import InteractionRecord
    from shopapp.events.services import interactions_ingest

    interactions_ingest(
        shop=installed,
        records=[
            InteractionRecord(
                shop=installed,
                user_id="v1",
                item_id="7",
                interaction="view",
                ts=1767225600.0,
                event_id="e1",
            )
        ],
    )
    response = Client().get("/app/api/events/latest", **_bearer(installed))
    assert response.json() == {
        "events": [
            {
                "ts": "2026-01-01 00:00:00",
                "user_id": "v1",
                "interaction": "view",
                "item_id": "7",
                "event_id": "e1",
            }
        ]
    }
    assert Client().get("/app/api/events/latest").status_code == 401
