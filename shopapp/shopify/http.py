"""The one HTTP client every call to Shopify goes through (OAuth, and later the Admin API).

Shopify is reached at `https://{shop}`. Tests and local runs set SHOPIFY_ORIGIN_OVERRIDE to send
those requests to a stand-in Shopify instead: the URL's origin is swapped, the Host header keeps
the shop, so the stand-in sees exactly what Shopify would. Production refuses the setting.
"""

from __future__ import annotations

import httpx
from django.conf import settings

TIMEOUT = httpx.Timeout(10.0, connect=5.0)


class _OriginOverride(httpx.BaseTransport):
    def __init__(self, origin: str) -> None:
        self._target = httpx.URL(origin)
        self._inner = httpx.HTTPTransport()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        request.url = request.url.copy_with(
            scheme=self._target.scheme, host=self._target.host, port=self._target.port
        )
        return self._inner.handle_request(request)

    def close(self) -> None:
        self._inner.close()


def shopify_transport() -> httpx.BaseTransport | None:
    """The transport for an httpx client that talks to Shopify (None: httpx's own)."""
    override: str = settings.SHOPIFY_ORIGIN_OVERRIDE
    return _OriginOverride(override) if override else None


def shopify_http_client() -> httpx.Client:
    """A new client for one conversation with Shopify; close it (use it in a `with`)."""
    return httpx.Client(timeout=TIMEOUT, transport=shopify_transport())
