"""Lets the demo's stand-in admin (shopapp/demo/admin.py) frame the embedded app.

The app's pages allow only the shop and Shopify's admin to frame them (`frame-ancestors`, set by
shopifyapp on every verified document load). The demo's admin is this server itself, so while the
demo is on those pages also allow 'self'; and, since no real admin is there for App Bridge to talk
to, they keep Shopify's CDN scripts out, so the page runs as it does without them (its token hook
asks the stand-in instead: templates/demo/app_token_hook.html). Nothing changes when the demo is
off: the check is one setting.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

CSP = "Content-Security-Policy"


def demo_admin_frame(
    get_response: Callable[[HttpRequest], HttpResponse],
) -> Callable[[HttpRequest], HttpResponse]:
    def middleware(request: HttpRequest) -> HttpResponse:
        response = get_response(request)
        if settings.DEMO_APP_PROXY and "frame-ancestors" in response.get(CSP, ""):
            response[CSP] = demo_policy(response[CSP])
            # The preloads of the CDN scripts the policy now refuses.
            if "cdn.shopify.com" in response.get("Link", ""):
                del response["Link"]
        return response

    return middleware


def demo_policy(policy: str) -> str:
    """`policy` with 'self' among the frame ancestors and scripts from this origin only."""
    directives = [d.strip() for d in policy.split(";") if d.strip()]
    directives = [
        f"{d} 'self'" if d.split()[0] == "frame-ancestors" else d
        for d in directives
        if d.split()[0] != "script-src"
    ]
    return "; ".join([*directives, "script-src 'self' 'unsafe-inline'"]) + ";"
