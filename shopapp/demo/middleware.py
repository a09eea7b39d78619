"""Lets the demo's stand-in admin (shopapp/demo/admin.py) frame the embedded app.

The app's pages allow only the shop and Shopify's admin to frame them (`frame-ancestors`, set by
shopifyapp on every verified document load). The demo's admin is this server itself, so while the
demo is on those pages also allow 'self'; and, since no real admin is there for App Bridge to talk
to, they keep Shopify's CDN scripts out, so the page runs as it does without them, and get the
demo's token hook (templates/demo/app_token_hook.html), which asks the stand-in for session tokens
instead. The app's own templates know nothing of the demo: this middleware is installed only while
the demo is (SLIPSTREAM_DEMO), and acts only in its processes with the proxy on.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string

CSP = "Content-Security-Policy"
HEAD_END = b"</head>"


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
            token_hook_add(response)
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


def token_hook_add(response: HttpResponse) -> None:
    """The token hook at the end of an HTML page's head, after the page's own token function,
    which it wraps."""
    if response.streaming or not response.get("Content-Type", "").startswith("text/html"):
        return
    head, found, rest = response.content.partition(HEAD_END)
    if not found:
        return
    hook = render_to_string("demo/app_token_hook.html").encode()
    response.content = head + hook + HEAD_END + rest
    if response.has_header("Content-Length"):
        response["Content-Length"] = str(len(response.content))
