"""The Snowplow-compatible collector: POST /com.snowplowanalytics.snowplow/tp2 and GET /i.

Validate, normalise, hand the batch to the ingest queue, answer. Bad input gets a 4xx with its
reason (permanent: the tracker drops it); only a queue we cannot reach gets 503 (the tracker
retries). An event is accepted only once it is in the queue.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from kombu.exceptions import OperationalError
from redis.exceptions import RedisError

from shopapp.events.normalise import InteractionRecord, tp2_normalise
from shopapp.events.rejections import rejections_record
from shopapp.events.tp2 import EventError, PayloadError, payload_parse
from shopapp.shops.selectors import shop_config_get
from shopapp.web.cors import with_cors
from workers.tasks import ingest_events

log = logging.getLogger(__name__)
GIF = (
    b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00\x00\x00"
    b",\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;"
)


def _answer(request: HttpRequest, status: int, body: dict[str, Any]) -> HttpResponse:
    return with_cors(request, JsonResponse(body, status=status))


@csrf_exempt
def tp2(request: HttpRequest) -> HttpResponse:
    if request.method == "OPTIONS":
        return with_cors(request, HttpResponse(status=204))
    if request.method != "POST":
        return _answer(request, 405, {"error": "use POST"})
    length = int(request.headers.get("Content-Length") or 0)
    if length > settings.COLLECTOR_MAX_BODY_BYTES:
        return _answer(request, 413, {"error": f"body over {settings.COLLECTOR_MAX_BODY_BYTES} B"})
    try:
        events = payload_parse(request.body, max_events=settings.COLLECTOR_MAX_EVENTS)
    except PayloadError as exc:
        return _answer(request, 400, {"error": str(exc)})
    return _collect(request, events)


@csrf_exempt
def pixel(request: HttpRequest) -> HttpResponse:
    """GET /i: one event as query parameters (the trackers' GET method); answers a 1x1 GIF."""
    response = _collect(request, [request.GET.dict()])
    if response.status_code != 200:
        return response
    gif = HttpResponse(GIF, content_type="image/gif")
    gif["Cache-Control"] = "no-cache, no-store, must-revalidate"
    return with_cors(request, gif)


def _collect(request: HttpRequest, events: list[Any]) -> HttpResponse:
    received_at = time.time()
    by_shop: dict[str, list[InteractionRecord]] = defaultdict(list)
    rejected: dict[str, list[tuple[str, object]]] = defaultdict(list)
    unknown_shop = 0
    for raw in events:
        shop = raw.get("aid", "") if isinstance(raw, dict) else ""
        config = shop_config_get(domain=shop) if isinstance(shop, str) and shop else None
        if config is None or not config.active:
            unknown_shop += 1
            continue
        try:
            by_shop[shop].extend(tp2_normalise(shop=shop, raw=raw, received_at=received_at))
        except EventError as exc:
            rejected[shop].append((str(exc), raw))
    if unknown_shop == len(events):
        return _answer(request, 404, {"error": "unknown or uninstalled shop (aid)"})
    try:
        for shop, records in by_shop.items():
            if records:
                ingest_events.delay(shop, [rec.as_dict() for rec in records])
    except OperationalError:
        log.exception("ingest queue unreachable")
        return _answer(request, 503, {"error": "queue unavailable, retry"})
    return _finish(request, events, by_shop, rejected, unknown_shop)


def _finish(
    request: HttpRequest,
    events: list[Any],
    by_shop: dict[str, list[InteractionRecord]],
    rejected: dict[str, list[tuple[str, object]]],
    unknown_shop: int,
) -> HttpResponse:
    reasons = [reason for rows in rejected.values() for reason, _ in rows]
    try:
        for shop, rows in rejected.items():
            rejections_record(shop=shop, rejected=rows)
    except RedisError:
        log.warning("could not keep %d rejected events for inspection", len(reasons))
    body = {
        "accepted": len(events) - len(reasons) - unknown_shop,
        "interactions": sum(len(r) for r in by_shop.values()),
        "rejected": len(reasons) + unknown_shop,
        "reasons": sorted(set(reasons))[:10],
    }
    status = 400 if body["accepted"] == 0 else 200
    return _answer(request, status, body)
