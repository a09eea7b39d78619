"""Shopify's webhooks: verified, recorded once, answered at once; the work runs in a worker.

Shopify waits 5 seconds and retries a failed delivery 8 times over 4 hours, so the view does only
what must happen before the 200: check the HMAC over the raw body, drop a duplicate, and keep the
delivery (committed, autocommit) before its task is queued, so a worker always finds it.
"""

from __future__ import annotations

import logging
from functools import partial
from typing import Any

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from redis.exceptions import RedisError

from shopapp.events.boundedjson import JsonLimitExceeded, JsonRejected, json_parse
from shopapp.events.rejections import rejections_record
from shopapp.shopify.appconfig import webhook_topics
from shopapp.shopify.signatures import SignatureRejected, Webhook, webhook_verify
from shopapp.shops.selectors import webhook_stalled
from shopapp.shops.services import webhook_record
from workers.webhooks import webhook_process

log = logging.getLogger(__name__)

# A delivery still unhandled this long after it arrived is queued again when Shopify retries it.
STALLED_AFTER_S = 60


def _text(status: int, message: str) -> HttpResponse:
    return HttpResponse(message, status=status, content_type="text/plain")


@csrf_exempt
@require_POST
def webhook(request: HttpRequest) -> HttpResponse:
    """Both subscription URIs of shopify.app.toml (/webhooks and /webhooks/compliance)."""
    body = request.body  # Django answers 400 itself above DATA_UPLOAD_MAX_MEMORY_SIZE
    payload, refused = _read(body)
    if isinstance(refused, JsonLimitExceeded):
        # shopifyapp json.loads the body (to redact its log) before it checks the HMAC, and that
        # raises on such a body: its signature cannot be checked, so it is refused unverified.
        # Shopify itself sends nothing this deep or with numbers this long.
        log.warning("webhook refused before its signature check: body %s", refused)
        return _text(400, f"body {refused}")
    verified = webhook_verify(headers=request.headers, body=body)
    if isinstance(verified, SignatureRejected):
        log.warning("webhook rejected: %s", verified.reason)
        return _text(verified.status, verified.reason)
    if verified.topic not in webhook_topics():
        return _text(200, "topic not subscribed; ignored")
    if refused is not None:
        return _unreadable(verified, f"body {refused}", size=len(body))
    if not isinstance(payload, dict):
        return _unreadable(verified, "body is not a JSON object", size=len(body))
    # The HMAC covers the body only: where the body names the shop, the header must agree.
    for key in ("myshopify_domain", "shop_domain"):
        if key in payload and str(payload[key]).lower() != verified.shop:
            return _text(401, "shop header does not match the signed body")
    new = webhook_record(
        delivery_id=verified.delivery_id,
        shop=verified.shop,
        topic=verified.topic,
        payload=payload,
    )
    # A retry of a delivery whose task never got queued (the broker was down) queues it now.
    if new or webhook_stalled(delivery_id=verified.delivery_id, after_s=STALLED_AFTER_S):
        try:
            # Queued once the delivery's row is committed, so the worker always finds it.
            transaction.on_commit(partial(webhook_process.delay, delivery_id=verified.delivery_id))
        except Exception:  # the broker is unreachable: Shopify's retry will queue it
            log.exception("webhook %s kept but not queued", verified.delivery_id)
            return _text(503, "kept; queue unavailable, retry later")
    return _text(200, "ok" if new else "duplicate; already received")


def _read(body: bytes) -> tuple[Any, JsonRejected | None]:
    try:
        return json_parse(body, max_chars=settings.DATA_UPLOAD_MAX_MEMORY_SIZE), None
    except JsonRejected as exc:
        return None, exc


def _unreadable(verified: Webhook, reason: str, *, size: int) -> HttpResponse:
    """A body Shopify signed that we cannot read (not JSON, not an object, NUL, NaN…) is
    permanent: each of Shopify's 8 retries would fail the same way, and failures count
    towards warning emails and the removal of the subscription. So it is acknowledged, logged as
    the anomaly it is, and kept with its reason in the shop's rejections (not the body: it may
    hold a customer's personal data)."""
    log.error(
        "webhook %s (%s) for %s unreadable: %s",
        verified.delivery_id,
        verified.topic,
        verified.shop,
        reason,
    )
    kept = {"webhook": verified.topic, "delivery_id": verified.delivery_id, "bytes": size}
    try:
        rejections_record(
            shop=verified.shop, rejected=[(f"webhook {verified.topic}: {reason}", kept)]
        )
    except RedisError:
        log.exception("webhook %s: rejection not kept", verified.delivery_id)
    return _text(200, f"received, not processed: {reason}")
