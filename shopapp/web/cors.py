"""CORS for the collector: the tracker runs on the shop's storefront origin, not ours
(docs/collector-protocol.md, "CORS").

The Snowplow JS tracker fetches with `credentials: "include"` by default, and a browser lets a
credentialed request read its answer only when the answer names its exact origin and says
`Access-Control-Allow-Credentials: true` (`*` is refused with credentials). So:
- one of the shop's storefront origins: echoed, with credentials;
- any other origin, `null` included (Shopify's sandboxed web pixel, which sends with credentials
  "omit"; but also any page's sandboxed iframe): echoed, never with credentials. Such a page can
  read our answer only when it sent no credentials, and the answer says nothing but why it was
  refused (or how many events were accepted);
- no `Origin`: no CORS headers (not a CORS request).
Never `*`: it cannot serve credentialed requests, and it would answer for every site alike.

Errors carry the headers too: a browser that cannot read an error treats it as a network failure
and the tracker would retry a permanently bad batch for ever.
"""

from __future__ import annotations

from collections.abc import Collection

from django.http import HttpRequest, HttpResponse
from django.utils.cache import patch_vary_headers

from shopapp.web.origin import OPAQUE

# What the JS tracker sets (its emitter's createHeaders): Content-Type on POST, and SP-Anonymous
# when server-side anonymisation is on. A tracker's `customHeaders` are not allowed.
ALLOW_HEADERS = "Content-Type, SP-Anonymous"
ALLOW_METHODS = "POST, GET"
# How long a browser may reuse a preflight (Chromium caps it at 2 h).
MAX_AGE_S = 3600


def with_cors(
    request: HttpRequest, response: HttpResponse, *, allowed: Collection[str]
) -> HttpResponse:
    """`response` with the CORS headers for this request's Origin, for a shop whose storefront
    origins are `allowed` (empty when the shop is unknown)."""
    # The answer depends on the Origin, so caches must key on it even when there is none.
    patch_vary_headers(response, ["Origin"])
    origin = request.headers.get("Origin")
    if origin is None:
        return response
    response["Access-Control-Allow-Origin"] = origin
    if origin != OPAQUE and origin in allowed:  # `null` is anyone's: never with credentials
        response["Access-Control-Allow-Credentials"] = "true"
    if request.method == "OPTIONS":
        response["Access-Control-Allow-Methods"] = ALLOW_METHODS
        response["Access-Control-Allow-Headers"] = ALLOW_HEADERS
        response["Access-Control-Max-Age"] = str(MAX_AGE_S)
    return response
