"""The app proxy: https://{shop}/apps/slipstream/* arrives here signed by Shopify.

GET /proxy/recommendations?visitor=<duid>&product_id=<id>&limit=N → the shopper's current list as
JSON, with the product data the block renders, never empty while the shop has a catalogue (see
recs/serving.py). Identity: the logged-in customer id Shopify adds (signed), else the tracker's
visitor id. Nothing here is cached: the list changes with every product view.

JSON, not `application/liquid`: the block fills placeholder cards in the page the theme already
rendered, one small response with no theme layout to render, so the proxy answers in a few ms and
a refresh after each product view costs the shop nothing. Product data comes from our catalogue
mirror, kept by webhooks and the bulk sync.
"""

from __future__ import annotations

import re

from django.http import HttpRequest, HttpResponse, JsonResponse

from shopapp.recs.serving import serving_list
from shopapp.shopify.signatures import SignatureRejected, app_proxy_verify
from shopapp.shops.selectors import shop_config_get

VISITOR_RE = re.compile(r"^[A-Za-z0-9_.:@-]{1,128}$")


def _no_store(response: HttpResponse) -> HttpResponse:
    response["Cache-Control"] = "no-store"
    return response


def recommendations(request: HttpRequest) -> HttpResponse:
    verified = app_proxy_verify(
        url=request.build_absolute_uri(), shop_param=request.GET.get("shop")
    )
    if isinstance(verified, SignatureRejected):
        return JsonResponse({"error": verified.reason}, status=verified.status)
    config = shop_config_get(domain=verified.shop)
    if config is None or not config.active:
        return JsonResponse({"error": "unknown or uninstalled shop"}, status=404)
    user_id = verified.logged_in_customer_id or request.GET.get("visitor", "")
    if user_id and not VISITOR_RE.match(user_id):
        return JsonResponse({"error": "malformed visitor id"}, status=400)
    limit = _limit(request.GET.get("limit"), default=config.recommendation_count)
    if limit is None:
        return JsonResponse({"error": "limit must be an integer from 1 to 50"}, status=400)
    product_id = request.GET.get("product_id", "")
    if product_id and not product_id.isdigit():
        return JsonResponse({"error": "product_id must be a product's numeric id"}, status=400)
    # No id at all: a shopper who has not consented to tracking (nothing personal to serve).
    served = serving_list(
        config=config, user_id=user_id or None, product_id=product_id or None, limit=limit
    )
    return _no_store(JsonResponse(served))


def _limit(raw: str | None, *, default: int) -> int | None:
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        return None
    return value if 1 <= value <= 50 else None
