"""Shopify's webhooks: verified, recorded once, answered at once; the work runs in a worker.

Shopify waits 5 seconds and retries a failed delivery 8 times over 4 hours, so the view does only
what must happen before the 200: check the HMAC over the raw body, drop a duplicate, and keep the
delivery (committed, autocommit) before its task is queued, so a worker always finds it.
"""

from __future__ import annotations

import json
import logging

from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from shopapp.shopify.appconfig import webhook_topics
from shopapp.shopify.signatures import SignatureRejected, webhook_verify
from shopapp.shops.selectors import webhook_stalled
from shopapp.shops.services import webhook_record
from workers.webhooks import handle_webhook

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
    verified = webhook_verify(headers=request.headers, body=body)
    if isinstance(verified, SignatureRejected):
        log.warning("webhook rejected: %s", verified.reason)
        return _text(verified.status, verified.reason)
    if verified.topic not in webhook_topics():
        return _text(200, "topic not subscribed; ignored")
    try:
        payload = json.loads(body)
    except ValueError:
        return _text(400, "body is not JSON")
    if not isinstance(payload, dict):
        return _text(400, "body is not a JSON object")
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
            handle_webhook.delay(verified.delivery_id)
        except Exception:  # the broker is unreachable: Shopify's retry will queue it
            log.exception("webhook %s kept but not queued", verified.delivery_id)
            return _text(503, "kept; queue unavailable, retry later")
    return _text(200, "ok" if new else "duplicate; already received")
