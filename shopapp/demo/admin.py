"""The demo's stand-in for the Shopify admin (SLIPSTREAM_DEMO_APP_PROXY: `manage.py demo` only).

In a real store the merchant opens Slipstream inside the admin, which frames the app's URL with a
session token, and App Bridge hands the page a fresh token whenever it asks. /demo/admin/ plays
that part: a page laid out like the admin (its left nav lists the app's pages) framing the real
embedded dashboard, /app, loaded with a token the stand-in mints (demo/tokens.py). The framed page
has no App Bridge here; it asks this frame for fresh tokens by postMessage
(templates/demo/app_token_hook.html), and the frame gets them from /demo/admin/token.

The stand-in mints tokens for whoever asks, as the demo's app proxy signs whatever a browser asks
it to, so it signs with the demo's own random secret, which only the demo's processes accept.
"""

from __future__ import annotations

import base64
import json
from urllib.parse import urlencode

from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from shopapp.demo.proxy import DEMO_SHOP
from shopapp.demo.tokens import TOKEN_TTL_S, DemoOff, demo_session_token

# The admin's page (/demo/admin/<page>) -> its label and the app's page it frames.
PAGES: dict[str, tuple[str, str]] = {
    "": ("Overview", "/app"),
    "settings": ("Settings", "/app/settings"),
    "models": ("Models", "/app/models"),
    "data": ("Data", "/app/data"),
}


def _token() -> str:
    try:
        return demo_session_token(shop=DEMO_SHOP)
    except DemoOff:
        raise Http404("the demo is off") from None


def admin_host(shop: str) -> str:
    """The `host` parameter the admin gives an embedded app: its admin URL, base64url."""
    admin = f"admin.shopify.com/store/{shop.removesuffix('.myshopify.com')}"
    return base64.urlsafe_b64encode(admin.encode()).decode().rstrip("=")


@require_GET
def admin_page(request: HttpRequest, page: str = "") -> HttpResponse:
    if page not in PAGES:
        raise Http404("no such page")
    token = _token()
    app_query = {"embedded": "1", "shop": DEMO_SHOP, "host": admin_host(DEMO_SHOP)}
    label, path = PAGES[page]
    pages = [
        {
            "label": name,
            "href": f"/demo/admin/{key}" if key else "/demo/admin/",
            "path": target,
            "active": key == page,
        }
        for key, (name, target) in PAGES.items()
    ]
    response = render(
        request,
        "demo/admin.html",
        {
            "shop": DEMO_SHOP,
            "store_name": DEMO_SHOP.removesuffix(".myshopify.com"),
            "pages": pages,
            "label": label,
            "frame_src": f"{path}?{urlencode({**app_query, 'id_token': token})}",
            "app_query_json": json.dumps(app_query).replace("<", "\\u003c"),
        },
    )
    response["Cache-Control"] = "no-store"  # it carries a session token
    return response


@require_GET
def admin_token(request: HttpRequest) -> JsonResponse:
    """A fresh session token for the framed app (what App Bridge's `shopify.idToken()` gets)."""
    response = JsonResponse({"token": _token(), "expires_in": TOKEN_TTL_S})
    response["Cache-Control"] = "no-store"
    return response
