"""The demo's signing stand-in for the app proxy: not even routed unless the demo is installed
(SLIPSTREAM_DEMO), off in a demo process unless `manage.py demo` turns it on, and then signing
with the demo's own secret, never the published development default."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import pytest
from django.test import Client

from shopapp.shopify.signatures import ProxyRequest, SignatureRejected, app_proxy_verify

DEMO = "slipstream-demo.myshopify.com"


@pytest.mark.parametrize("installed", [False, True], ids=["without-the-demo", "demo-without-proxy"])
def test_the_demo_app_proxy_and_storefront_are_off_by_default(
    request: pytest.FixtureRequest, installed: bool
) -> None:
    if installed:
        request.getfixturevalue("demo_app")
    assert Client().get("/apps/slipstream/recommendations?visitor=x").status_code == 404
    assert Client().get("/demo/store/").status_code == 404


def test_the_demo_app_proxy_signs_with_the_demos_own_secret(demo_app: None, settings: Any) -> None:
    settings.DEMO_APP_PROXY, settings.DEMO_APP_PROXY_SECRET = True, "d" * 64
    # A browser's own shop, customer or timestamp is dropped; the demo's are signed.
    response = Client().get(
        "/apps/slipstream/recommendations?visitor=x&shop=victim.myshopify.com"
        "&logged_in_customer_id=42&timestamp=1"
    )
    assert response.status_code == 307
    url = "https://app.example" + response["Location"]
    assert urlsplit(url).path == "/proxy/recommendations"
    # The published development secret (this process's) accepts nothing the demo signed...
    assert settings.SHOPIFY_API_SECRET == "slipstream-dev-client-secret-not-for-production"
    assert app_proxy_verify(url=url, shop_param=DEMO) == SignatureRejected(
        status=401, reason="invalid_signature"
    )
    # ...the demo's processes, whose SHOPIFY_API_SECRET is the demo's own, do.
    settings.SHOPIFY_API_SECRET = "d" * 64
    assert app_proxy_verify(url=url, shop_param=DEMO) == ProxyRequest(
        shop=DEMO, logged_in_customer_id=None
    )


def test_the_demo_app_proxy_without_its_own_secret_signs_nothing(
    demo_app: None, settings: Any
) -> None:
    settings.DEMO_APP_PROXY, settings.DEMO_APP_PROXY_SECRET = True, ""
    assert Client().get("/apps/slipstream/recommendations?visitor=x").status_code == 404
