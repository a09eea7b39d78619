"""The collector's abuse limits at the HTTP boundary (docs/collector-protocol.md, "Limits"):
per client address, new visitor ids per address, refused requests counting nothing, the trusted
proxy header, and what the direct path accepts without a usable Origin."""

from __future__ import annotations

import json
import re
import uuid
from types import SimpleNamespace
from typing import Any, cast

import pytest
from django.test import Client

from shopapp.demo.tp2 import payload, product_event
from shopapp.events.stream import (
    address_rate_key,
    address_visitors_key,
    visitor_digest,
)
from shopapp.redis import get_redis
from shopapp.web import collector
from tests.tp2 import logged_batches, proxy_tp2_path

# 10 s into a minute: every request of a test lands in the same rate window unless it moves on.
T0 = 1_800_000_000.0 - 1_800_000_000.0 % 60 + 10
MINUTE = int(T0 // 60)


@pytest.fixture(autouse=True)
def _empty_log(empty_event_log: None) -> None:
    """Every test here starts from an empty event log (tests/conftest.py)."""


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> SimpleNamespace:
    """The collector's clock, pinned (the rate windows are wall-clock minutes)."""
    now = SimpleNamespace(t=T0)
    monkeypatch.setattr(collector, "time", SimpleNamespace(time=lambda: now.t))
    return now


def _visitor() -> str:
    return str(uuid.uuid4())


def _events(shop: str, n: int, duid: str | None = None) -> bytes:
    return payload(
        *[product_event(shop=shop, item=str(i), duid=duid or _visitor()) for i in range(n)]
    )


def _send(
    key: str, shop: str, body: bytes, address: str = "203.0.113.7", **headers: str
) -> tuple[int, dict[str, Any]]:
    response = Client().post(
        f"/t/{key}/com.snowplowanalytics.snowplow/tp2",
        body,
        content_type="application/json",
        headers={"Origin": f"https://{shop}", **headers},
        REMOTE_ADDR=address,
    )
    return response.status_code, json.loads(response.content)


def _queued(shop: str) -> int:
    return sum(len(batch.events) for batch in logged_batches(shop))


REFUSED = {"error": "rate limit exceeded, retry later"}


def test_rotating_the_visitor_id_does_not_escape_the_address_limit(
    shop: str, tracking_key: str, settings: Any, clock: SimpleNamespace
) -> None:
    settings.COLLECTOR_RATE_PER_ADDRESS = 5
    for _ in range(5):  # five requests, a new visitor id each time
        assert _send(tracking_key, shop, _events(shop, 1)) == (200, {"accepted": 1})
    assert _send(tracking_key, shop, _events(shop, 1)) == (429, {**REFUSED, "limit": "address"})
    assert _queued(shop) == 5
    # Another address of the same shop is counted on its own.
    assert _send(tracking_key, shop, _events(shop, 1), address="198.51.100.1")[0] == 200


def test_an_ipv6_client_is_limited_per_64(
    shop: str, tracking_key: str, settings: Any, clock: SimpleNamespace
) -> None:
    settings.COLLECTOR_RATE_PER_ADDRESS = 2
    assert _send(tracking_key, shop, _events(shop, 1), address="2001:db8:1:2::1")[0] == 200
    assert _send(tracking_key, shop, _events(shop, 1), address="2001:db8:1:2:ffff::9")[0] == 200
    assert _send(tracking_key, shop, _events(shop, 1), address="2001:db8:1:2::abcd") == (
        429,
        {**REFUSED, "limit": "address"},
    )
    assert _send(tracking_key, shop, _events(shop, 1), address="2001:db8:1:3::1")[0] == 200


LIMIT_SETTING = {"address": "COLLECTOR_RATE_PER_ADDRESS", "shopper": "COLLECTOR_RATE_PER_SHOPPER"}


@pytest.mark.parametrize("limit", ["address", "shopper"])
def test_a_refused_request_is_not_counted(
    shop: str, tracking_key: str, settings: Any, clock: SimpleNamespace, limit: str
) -> None:
    setattr(settings, LIMIT_SETTING[limit], 5)
    duid = _visitor()
    assert _send(tracking_key, shop, _events(shop, 4, duid))[0] == 200
    for _ in range(3):  # held at the limit, it keeps trying
        assert _send(tracking_key, shop, _events(shop, 4, duid)) == (
            429,
            {**REFUSED, "limit": limit},
        )
    # Its refused 12 events were never counted: one more event still fits this minute.
    assert _send(tracking_key, shop, _events(shop, 1, duid)) == (200, {"accepted": 1})
    assert get_redis().get(address_rate_key(shop, MINUTE, "203.0.113.7")) == "5"
    assert _send(tracking_key, shop, _events(shop, 1, duid))[0] == 429
    clock.t += 60  # the next window: it has its whole allowance again
    assert _send(tracking_key, shop, _events(shop, 5, duid)) == (200, {"accepted": 5})
    assert _queued(shop) == 10


@pytest.mark.parametrize("limit", ["address", "shopper"])
def test_a_refused_burst_does_not_push_the_shops_other_clients_over(
    shop: str, tracking_key: str, settings: Any, clock: SimpleNamespace, limit: str
) -> None:
    settings.COLLECTOR_RATE_PER_SHOP = 10
    setattr(settings, LIMIT_SETTING[limit], 3)
    busy = _visitor() if limit == "shopper" else None  # else a new visitor id every time
    assert _send(tracking_key, shop, _events(shop, 3, busy))[0] == 200
    for _ in range(20):  # 100 refused events from a client past its own limit
        assert _send(tracking_key, shop, _events(shop, 5, busy))[1]["limit"] == limit
    for n in range(7):  # the shop's remaining 7 events go to 7 other clients
        assert _send(tracking_key, shop, _events(shop, 1), address=f"198.51.100.{n}")[0] == 200
    assert _send(tracking_key, shop, _events(shop, 1), address="192.0.2.1") == (
        429,
        {**REFUSED, "limit": "shop"},
    )
    assert _queued(shop) == 10


def test_new_visitor_ids_per_address_are_capped_but_returning_ones_pass(
    shop: str, tracking_key: str, settings: Any, clock: SimpleNamespace
) -> None:
    settings.COLLECTOR_NEW_VISITORS_PER_ADDRESS = 3
    first, *others = [_visitor() for _ in range(3)]
    for duid in [first, *others]:
        assert _send(tracking_key, shop, _events(shop, 1, duid))[0] == 200
    clock.t += 600
    response = Client().post(
        f"/t/{tracking_key}/com.snowplowanalytics.snowplow/tp2",
        _events(shop, 1),
        content_type="application/json",
        REMOTE_ADDR="203.0.113.7",
        HTTP_ORIGIN=f"https://{shop}",
    )
    # A slot frees when the oldest id is an hour old: 3600 s after it, 600 s have gone.
    assert (response.status_code, response["Retry-After"]) == (429, "3000")
    assert json.loads(response.content) == {**REFUSED, "limit": "new_visitors"}
    # A batch that brings one new id among returning ones is refused whole and counts nothing.
    mixed = payload(
        product_event(shop=shop, item="1", duid=first),
        product_event(shop=shop, item="2", duid=_visitor()),
    )
    assert _send(tracking_key, shop, mixed)[1]["limit"] == "new_visitors"
    assert get_redis().get(address_rate_key(shop, int(clock.t // 60), "203.0.113.7")) is None
    assert _send(tracking_key, shop, _events(shop, 2, first)) == (200, {"accepted": 2})
    assert _send(tracking_key, shop, _events(shop, 1), address="198.51.100.1")[0] == 200
    assert _queued(shop) == 6
    # The address's set holds one digest per visitor id (never the id itself).
    visitors = cast(list[str], get_redis().zrange(address_visitors_key(shop, "203.0.113.7"), 0, -1))
    assert sorted(visitors) == sorted(visitor_digest(f"v:{d}") for d in [first, *others])
    assert all(re.fullmatch("[0-9a-f]{16}", v) for v in visitors)


def test_the_new_visitor_cap_slides_over_the_hour(
    shop: str, tracking_key: str, settings: Any, clock: SimpleNamespace
) -> None:
    settings.COLLECTOR_NEW_VISITORS_PER_ADDRESS = 2
    old, recent = _visitor(), _visitor()
    assert _send(tracking_key, shop, _events(shop, 1, old))[0] == 200
    clock.t += 1800
    assert _send(tracking_key, shop, _events(shop, 1, recent))[0] == 200
    assert _send(tracking_key, shop, _events(shop, 1))[0] == 429
    clock.t += 1800  # `old` was last seen an hour ago: its slot is free, `recent`'s is not
    assert _send(tracking_key, shop, _events(shop, 1))[0] == 200
    assert _send(tracking_key, shop, _events(shop, 1))[0] == 429


def test_the_address_keys_expire(shop: str, tracking_key: str, clock: SimpleNamespace) -> None:
    assert _send(tracking_key, shop, _events(shop, 1))[0] == 200
    r = get_redis()
    assert r.ttl(address_rate_key(shop, MINUTE, "203.0.113.7")) == 120
    assert r.ttl(address_visitors_key(shop, "203.0.113.7")) == 3600


def test_a_forwarded_for_header_is_ignored_unless_configured(
    shop: str, tracking_key: str, settings: Any, clock: SimpleNamespace
) -> None:
    settings.COLLECTOR_RATE_PER_ADDRESS = 2
    for n in range(2):
        spoofed = {"X-Forwarded-For": f"198.51.100.{n}"}
        assert _send(tracking_key, shop, _events(shop, 1), **spoofed)[0] == 200
    assert _send(tracking_key, shop, _events(shop, 1), **{"X-Forwarded-For": "192.0.2.9"}) == (
        429,
        {**REFUSED, "limit": "address"},
    )


def test_a_configured_proxy_header_names_the_client(
    shop: str, tracking_key: str, settings: Any, clock: SimpleNamespace
) -> None:
    settings.COLLECTOR_RATE_PER_ADDRESS = 2
    settings.TRUSTED_PROXY_HEADER = "X-Forwarded-For"
    settings.TRUSTED_PROXY_HOPS = 1
    proxy = "10.0.0.2"  # every request comes from our load balancer
    for client in ("198.51.100.1", "198.51.100.2"):
        for _ in range(2):
            # The client's own entries (left of our proxy's) are its say, and ignored.
            chain = {"X-Forwarded-For": f"{uuid.uuid4().int % 250}.0.0.1, {client}"}
            assert _send(tracking_key, shop, _events(shop, 1), address=proxy, **chain)[0] == 200
    over = {"X-Forwarded-For": "192.0.2.5, 198.51.100.1"}
    assert _send(tracking_key, shop, _events(shop, 1), address=proxy, **over)[0] == 429
    assert _queued(shop) == 4


def test_through_the_app_proxy_the_address_is_the_one_shopify_forwards(
    shop: str, settings: Any, clock: SimpleNamespace
) -> None:
    settings.COLLECTOR_RATE_PER_ADDRESS = 2

    def send(forwarded: str | None) -> int:
        response = Client().post(
            proxy_tp2_path(shop),
            _events(shop, 1),
            content_type="application/json",
            headers={"X-Forwarded-For": forwarded} if forwarded else {},
            REMOTE_ADDR="23.227.38.1",  # Shopify
        )
        return response.status_code

    assert [send("198.51.100.1") for _ in range(3)] == [200, 200, 429]
    assert send("198.51.100.2") == 200  # not every shopper behind Shopify's one address
    # No forwarded address: unknown, so not lumped with every other shopper under Shopify's.
    assert [send(None) for _ in range(3)] == [200, 200, 200]


def _pixel(key: str, shop: str, **headers: str) -> tuple[int, str]:
    response = Client().get(
        f"/t/{key}/i", product_event(shop=shop, item="5", duid=_visitor()), headers=headers
    )
    return response.status_code, response["Content-Type"]


IMAGE = {"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "no-cors", "Sec-Fetch-Dest": "image"}


def test_an_image_on_the_shops_own_page_may_send(shop: str, tracking_key: str) -> None:
    referer = {"Referer": f"https://{shop}/products/shoe"}
    assert _pixel(tracking_key, shop, **IMAGE, **referer) == (200, "image/gif")
    assert _queued(shop) == 1


def test_an_image_on_another_site_may_not_send(shop: str, tracking_key: str) -> None:
    response = Client().get(
        f"/t/{tracking_key}/i",
        product_event(shop=shop, item="5", duid=_visitor()),
        headers={**IMAGE, "Referer": "https://evil.example/page"},
    )
    assert response.status_code == 403
    assert json.loads(response.content) == {
        "error": "referer https://evil.example may not post for this shop"
    }
    assert _queued(shop) == 0


def test_a_browser_request_that_hides_where_it_comes_from_is_refused(
    shop: str, tracking_key: str
) -> None:
    # referrerpolicy="no-referrer" on another site's <img>: no Origin, no Referer, but a browser.
    assert _pixel(tracking_key, shop, **IMAGE)[0] == 403
    assert _queued(shop) == 0


def test_a_program_without_origin_or_referer_may_send(shop: str, tracking_key: str) -> None:
    # A server-side tracker or a replay: no browser headers; bounded by its one address.
    assert _pixel(tracking_key, shop) == (200, "image/gif")
    status, _ = _send_plain(tracking_key, shop, referer=None)
    assert status == 200


def test_a_post_naming_another_sites_page_is_refused(shop: str, tracking_key: str) -> None:
    assert _send_plain(tracking_key, shop, referer="https://evil.example/") == (
        403,
        {"error": "referer https://evil.example may not post for this shop"},
    )


def test_the_opaque_origin_of_a_sandbox_may_send_on_both_methods(
    shop: str, tracking_key: str
) -> None:
    # Shopify's strict web-pixel worker has Origin "null"; so can any sandboxed iframe (the
    # residual risk, bounded by the limits above).
    assert _pixel(tracking_key, shop, Origin="null", **IMAGE)[0] == 200
    response = Client().post(
        f"/t/{tracking_key}/com.snowplowanalytics.snowplow/tp2",
        _events(shop, 1),
        content_type="application/json",
        HTTP_ORIGIN="null",
    )
    assert response.status_code == 200
    assert _queued(shop) == 2


def _send_plain(key: str, shop: str, referer: str | None) -> tuple[int, dict[str, Any]]:
    response = Client().post(
        f"/t/{key}/com.snowplowanalytics.snowplow/tp2",
        _events(shop, 1),
        content_type="application/json",
        headers={"Referer": referer} if referer else {},
    )
    return response.status_code, json.loads(response.content)
