"""The app proxy: https://{shop}/apps/slipstream/* arrives here signed by Shopify.

GET /proxy/recommendations?visitor=<duid>&product_id=<id>&limit=N → the shopper's current list as
JSON, with the product data the block renders, never empty while the shop has a catalogue (see
recs/serving.py). Identity: the logged-in customer id Shopify adds (signed), else the tracker's
visitor id, which must be a UUID and can only ever name a visitor (`v:<uuid>`), never a customer
(shopapp/events/identity.py). Nothing here is cached: the list changes with every product view.

JSON, not `application/liquid`: the block fills placeholder cards in the page the theme already
rendered, one small response with no theme layout to render, so the proxy answers in a few ms and
a refresh after each product view costs the shop nothing. Product data comes from our catalogue
mirror, kept by webhooks and the bulk sync.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse

from shopapp.events.identity import IdentityError, customer_user, visitor_user
from shopapp.recs.serving import serving_list
from shopapp.shopify.ids import resource_id
from shopapp.shopify.signatures import SignatureRejected, app_proxy_verify
from shopapp.shops.selectors import shop_config_get


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
    try:
        user_id = _shopper(verified.logged_in_customer_id, request.GET.get("visitor", ""))
    except IdentityError as exc:
        return JsonResponse({"error": str(exc)}, status=400)
    limit = _limit(request.GET.get("limit"), default=config.recommendation_count)
    if limit is None:
        return JsonResponse({"error": "limit must be an integer from 1 to 50"}, status=400)
    product_id = request.GET.get("product_id", "")
    if product_id and resource_id(product_id) is None:
        return JsonResponse({"error": "product_id must be a product's numeric id"}, status=400)
    # No id at all: a shopper who has not consented to tracking (nothing personal to serve).
    served = serving_list(
        config=config, user_id=user_id, product_id=product_id or None, limit=limit
    )
    return _no_store(JsonResponse(served))


def _shopper(customer_id: str | None, visitor: str) -> str | None:
    """The signed customer when one is logged in (a `visitor=` beside it is ignored), else the
    visitor the tracker's id names, else nobody."""
    if customer_id:
        return customer_user(customer_id)
    return visitor_user(visitor) if visitor else None


def _limit(raw: str | None, *, default: int) -> int | None:
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        return None
    return value if 1 <= value <= 50 else None
