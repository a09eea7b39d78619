"""What every dashboard view shares: the signed-in shop, and the frame every page renders in."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpResponse
from django.shortcuts import render

from shopapp.shops.models import Shop
from shopapp.web.auth import ShopifyRequest


def shop_of(request: ShopifyRequest) -> Shop:
    """The shop the session token was issued for, with its settings."""
    return Shop.objects.select_related("settings").get(domain=request.shopify_session.shop)


def page_render(request: ShopifyRequest, template: str, context: dict[str, Any]) -> HttpResponse:
    # Links to the other pages keep the admin's parameters, not the (one-minute) id_token.
    nav = {k: request.GET[k] for k in ("shop", "host", "embedded") if request.GET.get(k)}
    return render(
        request,
        template,
        {
            "shop": request.shopify_session.shop,
            "api_key": settings.SHOPIFY_API_KEY,
            "nav_query": urlencode(nav),
            # The page's own token, for fetches when App Bridge (the CDN) is not there.
            "page_token_json": json.dumps(request.GET.get("id_token", "")).replace("<", "\\u003c"),
            "active": template.rsplit("/", 1)[-1].removesuffix(".html"),
            **context,
        },
    )
