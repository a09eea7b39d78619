"""Which pages may send events on the direct path (docs/collector-protocol.md, "Origin").

The tracking key is public, so the Origin check does not authenticate anyone; what it stops is
*other websites' visitors' browsers* being used to post for a shop (many real addresses, which
per-address limits cannot bound). A browser says where a request comes from, and a page cannot
lie about it:
- `Origin` (every cross-origin fetch, XHR, sendBeacon and POST): one of the shop's origins, or
  `null`, the opaque origin of sandboxed code, which Shopify's strict web-pixel worker has (the
  only way purchases reach us). A third-party page can produce `null` too, with a sandboxed
  iframe: the residual risk the per-address limits, the new-visitor cap and the per-shop limit
  bound.
- no `Origin` (an `<img>` or other no-cors GET): a browser then sends `Sec-Fetch-Site`, and a
  `Referer` unless the page suppressed it. A browser request must name one of the shop's origins
  in its `Referer`; a request with no `Sec-Fetch-Site` is a program (a server-side tracker, a
  replay), bounded by its one address, and passes unless its `Referer` names another site.
"""

from __future__ import annotations

from collections.abc import Collection
from urllib.parse import urlsplit

from django.http import HttpRequest

OPAQUE = "null"


def origin_refusal(request: HttpRequest, allowed: Collection[str]) -> str | None:
    """Why this request may not post for a shop whose storefront origins are `allowed`; None
    when it may."""
    origin = request.headers.get("Origin")
    if origin is not None:
        if origin == OPAQUE or origin in allowed:
            return None
        return f"origin {origin} may not post for this shop"
    referer = request.headers.get("Referer")
    if referer:
        page = _origin_of(referer)
        return None if page in allowed else f"referer {page or '?'} may not post for this shop"
    if request.headers.get("Sec-Fetch-Site"):
        return "a browser request needs the shop's Origin or Referer"
    return None


def _origin_of(url: str) -> str:
    try:
        parts = urlsplit(url)
    except ValueError:
        return ""
    if not parts.scheme or not parts.netloc:
        return ""
    return f"{parts.scheme}://{parts.netloc}".lower()
