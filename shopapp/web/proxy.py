"""The app proxy: https://{shop}/apps/slipstream/* arrives here signed by Shopify.

GET /proxy/recommendations?visitor=<duid>&limit=N → the shopper's current list as JSON, with the
product data the block renders. Identity: the logged-in customer id Shopify adds (signed), else the
tracker's visitor id. Nothing here is cached: the list changes with every product view.
"""

from __future__ import annotations

import re

from django.http import HttpRequest, HttpResponse, JsonResponse

from shopapp.recs.selectors import products_by_id
from shopapp.recs.store import popular_read, recs_read
from shopapp.redis import get_redis
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
    # No id at all: a shopper who has not consented to tracking (nothing personal to serve).
    r = get_redis()
    stored = recs_read(r=r, shop=verified.shop, user_id=user_id) if user_id else None
    if stored is None:
        stored = popular_read(r=r, shop=verified.shop)
    if stored is None:
        return _no_store(JsonResponse({"items": [], "model_version": None, "source": "none"}))
    catalog = products_by_id(shop=verified.shop, product_ids=stored.items)
    items = [
        {**catalog.get(item, {"item_id": item}), "score": score}
        for item, score in zip(stored.items, stored.scores, strict=True)
    ][:limit]
    return _no_store(
        JsonResponse(
            {
                "items": items,
                "model_version": stored.model_version,
                "source": stored.source,
                "computed_at": stored.computed_at,
            }
        )
    )


def _limit(raw: str | None, *, default: int) -> int | None:
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        return None
    return value if 1 <= value <= 50 else None
