"""Customer data exports reach the merchant: listed and downloaded by their own shop only."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.conf import settings
from django.test import Client

from shopapp.privacy.services import Person, customer_export
from shopapp.shops.services import shop_install
from tests.fakeshopify import FakeShopify, session_token

pytestmark = pytest.mark.django_db(transaction=True)
OTHER = "someone-else.myshopify.com"


def _bearer(shop: str) -> dict[str, Any]:
    token = session_token(shop, secret=settings.SHOPIFY_API_SECRET, aud=settings.SHOPIFY_API_KEY)
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def test_the_merchant_lists_and_downloads_their_exports_and_never_another_shops(
    installed: str, fake: FakeShopify
) -> None:
    mine = customer_export(
        shop_domain=installed, person=Person(customer_id="42"), data_request_id="77"
    )
    shop_install(domain=OTHER)
    theirs = customer_export(shop_domain=OTHER, person=Person(customer_id="43"))

    listed = Client().get("/app/api/exports", **_bearer(installed)).json()["exports"]
    assert [(e["id"], e["customer_id"], e["data_request_id"]) for e in listed] == [
        (mine, "42", "77")
    ]

    download = Client().get(f"/app/api/exports/{mine}", **_bearer(installed))
    assert download.status_code == 200
    assert download["Content-Disposition"] == f'attachment; filename="customer-data-{mine}.json"'
    data = json.loads(download.content)
    assert (data["shop"], data["customer_id"], data["interactions"]) == (installed, "42", [])

    refused = Client().get(f"/app/api/exports/{theirs}", **_bearer(installed))
    assert (refused.status_code, refused.json()) == (404, {"error": "no such export"})
    assert Client().get(f"/app/api/exports/{mine}").status_code == 401
