"""The Snowplow-compatible collector (docs/collector-protocol.md).

Two ways in, one pipeline:
- direct: `/t/<tracking key>/com.snowplowanalytics.snowplow/tp2` and `/t/<key>/i` (or the bare
  Snowplow paths with `?tk=<key>`); the key names the shop, a browser's Origin must be the shop's;
- through Shopify's app proxy: `/proxy/tp2`, `/proxy/i`, signed by Shopify, which also tells us the
  logged-in customer.

Identify, count against the rate limits, append the batch to the event log (a Redis Stream), answer.
Bad requests get a 4xx with the reason (permanent: the tracker drops them); only what a retry can
cure gets 429/503. An event is accepted only once it is in the log.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from redis.exceptions import RedisError

from shopapp.events.identity import IdentityError, customer_user, visitor_user
from shopapp.events.stream import Batch, Refusal, events_append
from shopapp.events.tp2 import PayloadError, payload_parse, query_event
from shopapp.redis import get_redis
from shopapp.shopify.signatures import (
    PROXY_RESERVED,
    ProxyRequest,
    SignatureRejected,
    app_proxy_verify,
)
from shopapp.shops.selectors import ShopConfig, shop_config_cached
from shopapp.web.clientaddr import client_address
from shopapp.web.cors import with_cors
from shopapp.web.origin import origin_refusal

log = logging.getLogger(__name__)
GIF = (
    b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00\x00\x00"
    b",\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;"
)


def _answer(
    request: HttpRequest, status: int, body: dict[str, Any], headers: dict[str, str] | None = None
) -> HttpResponse:
    return JsonResponse(body, status=status, headers=headers)


# Each view answers CORS once, for the shop it identified (cors.py): errors carry it too.
@csrf_exempt
def tp2(request: HttpRequest, key: str | None = None) -> HttpResponse:
    shop = _shop_of_key(request, key)
    allowed = shop.allowed_origins if shop is not None else frozenset()
    if request.method == "OPTIONS":
        return with_cors(request, HttpResponse(status=204), allowed=allowed)
    usable = _identify_direct(request, shop)
    answer = usable if isinstance(usable, HttpResponse) else _post(request, usable, proxy=None)
    return with_cors(request, answer, allowed=allowed)


@csrf_exempt
def pixel(request: HttpRequest, key: str | None = None) -> HttpResponse:
    """GET /i: one event as query parameters (the trackers' GET method); answers a 1x1 GIF."""
    shop = _shop_of_key(request, key)
    allowed = shop.allowed_origins if shop is not None else frozenset()
    usable = _identify_direct(request, shop)
    answer = usable if isinstance(usable, HttpResponse) else _get(request, usable, proxy=None)
    return with_cors(request, answer, allowed=allowed)


@csrf_exempt
def proxy_tp2(request: HttpRequest) -> HttpResponse:
    verified = _identify_proxy(request)
    if isinstance(verified, HttpResponse):
        return with_cors(request, verified, allowed=())
    shop, proxy = verified
    return with_cors(request, _post(request, shop, proxy=proxy), allowed=shop.allowed_origins)


def proxy_pixel(request: HttpRequest) -> HttpResponse:
    verified = _identify_proxy(request)
    if isinstance(verified, HttpResponse):
        return with_cors(request, verified, allowed=())
    shop, proxy = verified
    return with_cors(request, _get(request, shop, proxy=proxy), allowed=shop.allowed_origins)


def _shop_of_key(request: HttpRequest, key: str | None) -> ShopConfig | None:
    key = key or request.GET.get("tk", "")
    return shop_config_cached(key=key) if key else None


def _identify_direct(request: HttpRequest, shop: ShopConfig | None) -> ShopConfig | HttpResponse:
    if shop is None:
        return _answer(request, 404, {"error": "unknown tracking key"})
    refusal = origin_refusal(request, shop.allowed_origins)  # what Origin/Referer may be: origin.py
    if refusal is not None:
        return _answer(request, 403, {"error": refusal})
    return _usable(request, shop)


def _identify_proxy(request: HttpRequest) -> tuple[ShopConfig, ProxyRequest] | HttpResponse:
    verified = app_proxy_verify(
        url=request.build_absolute_uri(), shop_param=request.GET.get("shop")
    )
    if isinstance(verified, SignatureRejected):
        return _answer(request, verified.status, {"error": verified.reason})
    shop = shop_config_cached(domain=verified.shop)
    if shop is None:
        return _answer(request, 404, {"error": "unknown shop"})
    usable = _usable(request, shop)
    return usable if isinstance(usable, HttpResponse) else (usable, verified)


def _usable(request: HttpRequest, shop: ShopConfig) -> ShopConfig | HttpResponse:
    if not shop.active:
        return _answer(request, 403, {"error": "the shop has uninstalled Slipstream"})
    if not shop.tracking_enabled:
        return _answer(request, 403, {"error": "tracking is off for this shop"})
    return shop


def _get(request: HttpRequest, shop: ShopConfig, proxy: ProxyRequest | None) -> HttpResponse:
    try:
        event = _get_event(request)
    except PayloadError as exc:
        return _answer(request, 400, {"error": str(exc)})
    return _gif(request, _collect(request, [event], shop, proxy=proxy))


def _get_event(request: HttpRequest) -> dict[str, str]:
    # Shopify's own parameters and our tracking key are no part of the event.
    return query_event(
        {k: v for k, v in request.GET.dict().items() if k not in (*PROXY_RESERVED, "tk")}
    )


def _gif(request: HttpRequest, response: HttpResponse) -> HttpResponse:
    if response.status_code != 200:
        return response
    gif = HttpResponse(GIF, content_type="image/gif")
    gif["Cache-Control"] = "no-cache, no-store, must-revalidate"
    return gif


def _post(request: HttpRequest, shop: ShopConfig, proxy: ProxyRequest | None) -> HttpResponse:
    if request.method != "POST":
        return _answer(request, 405, {"error": "use POST"})
    try:
        length = int(request.headers.get("Content-Length") or 0)
    except ValueError:
        return _answer(request, 400, {"error": "invalid Content-Length"})
    if length > settings.COLLECTOR_MAX_BODY_BYTES:
        return _answer(request, 413, {"error": f"body over {settings.COLLECTOR_MAX_BODY_BYTES} B"})
    try:
        events = payload_parse(
            request.body,
            max_events=settings.COLLECTOR_MAX_EVENTS,
            max_bytes=settings.COLLECTOR_MAX_BODY_BYTES,
        )
    except PayloadError as exc:
        return _answer(request, 400, {"error": str(exc)})
    return _collect(request, events, shop, proxy=proxy)


def _collect(
    request: HttpRequest, events: list[Any], shop: ShopConfig, proxy: ProxyRequest | None
) -> HttpResponse:
    """Rate-limit and append one request's events to the event log, for one identified shop.

    What each event means is the ingest worker's business: it normalises them and keeps the
    invalid ones with their reason (Snowplow's collector/enrich split); this stays one round trip.
    """
    # Only a request Shopify signed can say which customer this is (its logged_in_customer_id),
    # and it says so for the whole batch; an event's own `uid` is never read (and not kept), so
    # no one can post as a customer: shopapp/events/identity.py.
    customer = _signed_customer(proxy)
    if isinstance(customer, HttpResponse):
        return customer
    events = [_without_uid(raw) for raw in events if isinstance(raw, dict)]
    if not events:
        return _answer(request, 400, {"error": "no event is an object"})
    batch = Batch(shop=shop.domain, events=events, received_at=time.time(), customer=customer)
    try:
        refused = _append(request, batch, customer, via_app_proxy=proxy is not None)
    except RedisError:
        log.exception("event log unreachable")
        return _answer(request, 503, {"error": "queue unavailable, retry"})
    if refused is not None:
        return _answer(
            request,
            429,
            {"error": "rate limit exceeded, retry later", "limit": refused.limit},
            headers={"Retry-After": str(refused.retry_after)},
        )
    return _answer(request, 200, {"accepted": len(events)})


def _append(
    request: HttpRequest, batch: Batch, customer: str | None, *, via_app_proxy: bool
) -> Refusal | None:
    """Every limit checked, then counted and the batch appended: one round trip (stream.py)."""
    visitors = [_visitor_or_none(raw.get("duid")) for raw in batch.events]  # each duid read once
    return events_append(
        r=get_redis(),
        batch=batch,
        # Per shopper: the signed customer, else each event's visitor (`-`: none, ingest rejects).
        per_shopper=Counter({customer: len(visitors)}) if customer else Counter(visitors),
        shop_limit=settings.COLLECTOR_RATE_PER_SHOP,
        shopper_limit=settings.COLLECTOR_RATE_PER_SHOPPER,
        # The shopper id is the client's to choose, its address is not (clientaddr.py).
        address=client_address(request, via_app_proxy=via_app_proxy),
        # The new-visitor cap: a duid that is not a UUID names no visitor and creates nothing.
        visitors={v for v in visitors if v != "-"},
        address_limit=settings.COLLECTOR_RATE_PER_ADDRESS,
        new_visitor_limit=settings.COLLECTOR_NEW_VISITORS_PER_ADDRESS,
    )


def _visitor_or_none(duid: object) -> str:
    try:
        return visitor_user(duid)
    except IdentityError:
        return "-"


def _signed_customer(proxy: ProxyRequest | None) -> str | HttpResponse | None:
    if proxy is None or not proxy.logged_in_customer_id:
        return None
    try:
        return customer_user(proxy.logged_in_customer_id)
    except IdentityError:
        return JsonResponse({"error": "logged_in_customer_id is not a customer id"}, status=400)


def _without_uid(raw: dict[str, Any]) -> dict[str, Any]:
    return raw if "uid" not in raw else {k: v for k, v in raw.items() if k != "uid"}
