"""The dashboard's endpoints at the HTTP boundary (the pages themselves: tests/browser)."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from shopapp.events.models import Interaction
from tests.fakeshopify import FakeShopify, session_token

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
