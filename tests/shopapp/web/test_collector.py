from __future__ import annotations

import json
import time
from typing import Any

import pytest
from django.conf import settings
from django.test import Client

from shopapp.demo.tp2 import PAYLOAD, page_view, payload, product_event
from shopapp.shopify.signatures import app_proxy_sign
from shopapp.shops.models import Shop, ShopSettings
from shopapp.shops.selectors import shop_cache_clear
from tests.brokers import queue_down
from tests.tp2 import logged_batches


def _post(url: str, body: bytes, origin: str | None) -> tuple[int, dict[str, Any], str | None]:
    headers = {"Origin": origin} if origin else {}
    response = Client().post(url, body, content_type="application/json", headers=headers)
    return (
        response.status_code,
        json.loads(response.content),
        response.headers.get("Access-Control-Allow-Origin"),
    )


def _direct(key: str, shop: str, body: bytes) -> tuple[int, dict[str, Any], str | None]:
    return _post(f"/t/{key}/com.snowplowanalytics.snowplow/tp2", body, f"https://{shop}")


def _queued(shop: str) -> list[list[dict[str, Any]]]:
    """The batches this shop has in the event log (what the consumer will hand to Celery)."""
    return [batch.events for batch in logged_batches(shop)]


@pytest.fixture(autouse=True)
def _empty_log(empty_event_log: None) -> None:
    """Every test here starts from an empty event log (tests/conftest.py)."""


def test_valid_batch_is_logged_and_acknowledged(shop: str, tracking_key: str) -> None:
    pv, view = page_view(shop=shop), product_event(shop=shop, item="5", duid="v7")
    status, body, cors = _direct(tracking_key, shop, payload(pv, view))
    assert (status, body, cors) == (200, {"accepted": 2}, f"https://{shop}")
    assert _queued(shop) == [[pv, view]]


def test_the_key_may_also_come_as_a_query_parameter(shop: str, tracking_key: str) -> None:
    status, _, _ = _post(
        f"/com.snowplowanalytics.snowplow/tp2?tk={tracking_key}",
        payload(product_event(shop=shop, item="5")),
        None,
    )
    assert status == 200
    assert len(_queued(shop)) == 1


def test_a_batch_without_any_event_object_is_a_permanent_400(shop: str, tracking_key: str) -> None:
    body = json.dumps({"schema": PAYLOAD, "data": ["pv", 3]}).encode()
    status, answer, cors = _direct(tracking_key, shop, body)
    assert (status, answer, cors) == (400, {"error": "no event is an object"}, f"https://{shop}")
    assert _queued(shop) == []


def test_unknown_key_is_404(db: None) -> None:
    status, body, _ = _post(
        "/t/nope/com.snowplowanalytics.snowplow/tp2",
        payload(page_view(shop="x.myshopify.com")),
        None,
    )
    assert (status, body) == (404, {"error": "unknown tracking key"})


def test_a_foreign_origin_is_403(shop: str, tracking_key: str) -> None:
    status, body, cors = _post(
        f"/t/{tracking_key}/com.snowplowanalytics.snowplow/tp2",
        payload(page_view(shop=shop)),
        "https://evil.example",
    )
    assert (status, body) == (
        403,
        {"error": "origin https://evil.example may not post for this shop"},
    )
    assert cors == "https://evil.example"  # readable, so the tracker drops it instead of retrying


def test_the_shops_other_storefront_origins_are_allowed(shop: str, tracking_key: str) -> None:
    Shop.objects.filter(domain=shop).update(storefront_origins=["https://www.shop.example"])

    shop_cache_clear()
    status, _, _ = _post(
        f"/t/{tracking_key}/com.snowplowanalytics.snowplow/tp2",
        payload(page_view(shop=shop)),
        "https://www.shop.example",
    )
    assert status == 200


def test_sandboxed_code_with_an_opaque_origin_may_post(shop: str, tracking_key: str) -> None:
    # Shopify's strict web-pixel sandbox posts from an opaque origin, sent as "null".
    status, _, _ = _post(
        f"/t/{tracking_key}/com.snowplowanalytics.snowplow/tp2",
        payload(page_view(shop=shop)),
        "null",
    )
    assert status == 200


def test_uninstalled_shop_or_tracking_off_is_403(shop: str, tracking_key: str) -> None:
    ShopSettings.objects.filter(shop__domain=shop).update(tracking_enabled=False)
    shop_cache_clear()
    assert _direct(tracking_key, shop, payload(page_view(shop=shop)))[:2] == (
        403,
        {"error": "tracking is off for this shop"},
    )
    Shop.objects.filter(domain=shop).update(uninstalled_at="2026-01-01T00:00:00Z")
    shop_cache_clear()
    assert _direct(tracking_key, shop, payload(page_view(shop=shop)))[:2] == (
        403,
        {"error": "the shop has uninstalled Slipstream"},
    )


def test_malformed_body_is_400_not_500(shop: str, tracking_key: str) -> None:
    status, body, _ = _direct(tracking_key, shop, b"\xff\xfe garbage")
    assert status == 400
    assert str(body["error"]).startswith("body is not JSON")


def test_oversized_body_is_413(shop: str, tracking_key: str) -> None:
    assert _direct(tracking_key, shop, b" " * (1024 * 1024 + 1))[0] == 413


def test_a_shopper_past_the_rate_limit_gets_429_with_retry_after(
    shop: str, tracking_key: str, settings: Any
) -> None:
    settings.COLLECTOR_RATE_PER_SHOPPER = 3
    body = payload(*[product_event(shop=shop, item=str(n), duid="busy") for n in range(2)])
    assert _direct(tracking_key, shop, body)[0] == 200
    response = Client().post(
        f"/t/{tracking_key}/com.snowplowanalytics.snowplow/tp2",
        body,
        content_type="application/json",
        HTTP_ORIGIN=f"https://{shop}",
    )
    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= 60
    assert len(_queued(shop)) == 1  # the refused batch was not queued
    other = payload(product_event(shop=shop, item="9", duid="calm"))
    assert _direct(tracking_key, shop, other)[0] == 200  # other shoppers are not affected


def test_get_pixel_collects_one_event(shop: str, tracking_key: str) -> None:
    event = product_event(shop=shop, item="5", duid="g1")
    response = Client().get(f"/t/{tracking_key}/i", event)
    assert (response.status_code, response["Content-Type"]) == (200, "image/gif")
    assert _queued(shop) == [[event]]


# CORS (docs/collector-protocol.md, "CORS"): the JS tracker sends with credentials "include", so
# a storefront origin gets its origin echoed with credentials; no other origin ever gets them.
STOREFRONT = "https://www.shop.example"
PREFLIGHT = {
    "Access-Control-Allow-Methods": "POST, GET",
    "Access-Control-Allow-Headers": "Content-Type, SP-Anonymous",
    "Access-Control-Max-Age": "3600",
}


def _cors(response: Any) -> dict[str, str]:
    """The response's CORS headers and its Vary, exactly."""
    return {
        name: value
        for name, value in response.headers.items()
        if name.startswith("Access-Control-") or name == "Vary"
    }


def _credentialed(origin: str) -> dict[str, str]:
    return {
        "Vary": "Origin",
        "Access-Control-Allow-Origin": origin,
        "Access-Control-Allow-Credentials": "true",
    }


def _uncredentialed(origin: str) -> dict[str, str]:
    return {"Vary": "Origin", "Access-Control-Allow-Origin": origin}


def _tp2_url(key: str) -> str:
    return f"/t/{key}/com.snowplowanalytics.snowplow/tp2"


def _preflight(key: str, origin: str) -> Any:
    return Client().options(
        _tp2_url(key),
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
    )


def _posted(key: str, shop: str, origin: str | None, body: bytes | None = None) -> Any:
    return Client().post(
        _tp2_url(key),
        payload(page_view(shop=shop)) if body is None else body,
        content_type="application/json; charset=UTF-8",
        headers={"Origin": origin} if origin is not None else {},
    )


@pytest.fixture
def storefront(shop: str) -> str:
    Shop.objects.filter(domain=shop).update(storefront_origins=[STOREFRONT])
    shop_cache_clear()
    return shop


@pytest.mark.parametrize("origin", ["https://{shop}", STOREFRONT])
def test_a_storefront_origin_gets_a_credentialed_post_answer(
    storefront: str, tracking_key: str, origin: str
) -> None:
    origin = origin.format(shop=storefront)
    response = _posted(tracking_key, storefront, origin)
    assert (response.status_code, _cors(response)) == (200, _credentialed(origin))


def test_a_storefront_origin_gets_a_credentialed_preflight(
    storefront: str, tracking_key: str
) -> None:
    response = _preflight(tracking_key, STOREFRONT)
    assert (response.status_code, response.content) == (204, b"")
    assert _cors(response) == {**_credentialed(STOREFRONT), **PREFLIGHT}


def test_a_storefront_origin_gets_a_credentialed_get_answer(
    storefront: str, tracking_key: str
) -> None:
    event = product_event(shop=storefront, item="5")
    response = Client().get(f"/t/{tracking_key}/i", event, headers={"Origin": STOREFRONT})
    assert (response.status_code, response["Content-Type"]) == (200, "image/gif")
    assert _cors(response) == _credentialed(STOREFRONT)
    assert _queued(storefront) == [[event]]


def test_a_storefront_origins_errors_are_credentialed_too(
    storefront: str, tracking_key: str
) -> None:
    """Readable, so the tracker drops a bad batch (or retries a 503) instead of a blind retry."""
    bad = _posted(tracking_key, storefront, STOREFRONT, body=b"{")
    assert (bad.status_code, _cors(bad)) == (400, _credentialed(STOREFRONT))
    bad_get = Client().get(f"/t/{tracking_key}/i?e=pv&url=%00", headers={"Origin": STOREFRONT})
    assert (bad_get.status_code, _cors(bad_get)) == (400, _credentialed(STOREFRONT))
    with queue_down():
        down = _posted(tracking_key, storefront, STOREFRONT)
    assert (down.status_code, _cors(down)) == (503, _credentialed(STOREFRONT))
    ShopSettings.objects.filter(shop__domain=storefront).update(tracking_enabled=False)
    shop_cache_clear()
    off = _posted(tracking_key, storefront, STOREFRONT)
    assert (off.status_code, _cors(off)) == (403, _credentialed(STOREFRONT))


def test_another_origin_is_never_granted_credentials(storefront: str, tracking_key: str) -> None:
    evil = "https://evil.example"
    preflight = _preflight(tracking_key, evil)
    assert (preflight.status_code, _cors(preflight)) == (
        204,
        {**_uncredentialed(evil), **PREFLIGHT},
    )
    posted = _posted(tracking_key, storefront, evil)
    assert (posted.status_code, _cors(posted)) == (403, _uncredentialed(evil))
    got = Client().get(
        f"/t/{tracking_key}/i", product_event(shop=storefront, item="5"), headers={"Origin": evil}
    )
    assert (got.status_code, _cors(got)) == (403, _uncredentialed(evil))
    assert _queued(storefront) == []


def test_an_unknown_key_is_never_granted_credentials(db: None) -> None:
    preflight = _preflight("nope", STOREFRONT)
    assert (preflight.status_code, _cors(preflight)) == (
        204,
        {**_uncredentialed(STOREFRONT), **PREFLIGHT},
    )
    posted = _posted("nope", "x.myshopify.com", STOREFRONT)
    assert (posted.status_code, _cors(posted)) == (404, _uncredentialed(STOREFRONT))


def test_the_opaque_origin_is_answered_without_credentials(
    storefront: str, tracking_key: str
) -> None:
    """Shopify's sandboxed web pixel sends `Origin: null` with credentials "omit": it can read
    the answer; a credentialed request from any sandboxed page cannot."""
    preflight = _preflight(tracking_key, "null")
    assert (preflight.status_code, _cors(preflight)) == (
        204,
        {**_uncredentialed("null"), **PREFLIGHT},
    )
    posted = _posted(tracking_key, storefront, "null")
    assert (posted.status_code, _cors(posted)) == (200, _uncredentialed("null"))


def test_the_opaque_origin_gets_no_credentials_even_if_listed(shop: str, tracking_key: str) -> None:
    Shop.objects.filter(domain=shop).update(storefront_origins=["null"])
    shop_cache_clear()
    posted = _posted(tracking_key, shop, "null")
    assert (posted.status_code, _cors(posted)) == (200, _uncredentialed("null"))


def test_a_request_without_origin_gets_no_cors_headers(storefront: str, tracking_key: str) -> None:
    posted = _posted(tracking_key, storefront, None)  # a program: curl, a server-side tracker
    assert (posted.status_code, _cors(posted)) == (200, {"Vary": "Origin"})
    got = Client().get(  # an <img>, on the storefront
        f"/t/{tracking_key}/i",
        product_event(shop=storefront, item="5"),
        headers={"Referer": f"{STOREFRONT}/products/x", "Sec-Fetch-Site": "cross-site"},
    )
    assert (got.status_code, _cors(got)) == (200, {"Vary": "Origin"})


def _proxy_url(shop: str, customer: str = "", secret: str | None = None) -> str:
    query = app_proxy_sign(
        params={"shop": shop, "logged_in_customer_id": customer, "path_prefix": "/apps/slipstream"},
        secret=secret or settings.SHOPIFY_API_SECRET,
        now=time.time(),
    )
    return f"/proxy/tp2?{query}"


def _queued_customers(shop: str) -> list[str | None]:
    return [batch.customer for batch in logged_batches(shop)]


def test_through_the_app_proxy_shopify_says_who_is_logged_in(shop: str) -> None:
    spoofed = product_event(shop=shop, item="5", uid="someone-else")
    status, _, _ = _post(_proxy_url(shop, customer="777"), payload(spoofed), None)
    assert status == 200
    [[logged]] = _queued(shop)
    assert logged == {k: v for k, v in spoofed.items() if k != "uid"}  # the client's uid dropped
    assert _queued_customers(shop) == ["c:777"]  # the batch is the signed customer's


def test_through_the_app_proxy_a_logged_out_shopper_cannot_claim_a_customer_id(shop: str) -> None:
    spoofed = product_event(shop=shop, item="5", uid="someone-else")
    assert _post(_proxy_url(shop), payload(spoofed), None)[0] == 200
    [[logged]] = _queued(shop)
    assert logged == {k: v for k, v in spoofed.items() if k != "uid"}
    assert _queued_customers(shop) == [None]


def test_a_forged_app_proxy_signature_is_401(shop: str) -> None:
    status, body, _ = _post(
        _proxy_url(shop, secret="forged"), payload(product_event(shop=shop, item="5")), None
    )
    assert (status, body) == (401, {"error": "invalid_signature"})
    assert _queued(shop) == []


def test_queue_down_is_503_so_the_tracker_retries(shop: str, tracking_key: str) -> None:
    with queue_down():
        status, body, cors = _direct(
            tracking_key, shop, payload(product_event(shop=shop, item="5"))
        )
    assert (status, body, cors) == (503, {"error": "queue unavailable, retry"}, f"https://{shop}")


def test_the_direct_path_cannot_claim_a_customer_id(shop: str, tracking_key: str) -> None:
    spoofed = product_event(shop=shop, item="5", uid="777")
    status, _, _ = _direct(tracking_key, shop, payload(spoofed))
    assert status == 200
    [[logged]] = _queued(shop)
    assert logged == {k: v for k, v in spoofed.items() if k != "uid"}
    assert _queued_customers(shop) == [None]
