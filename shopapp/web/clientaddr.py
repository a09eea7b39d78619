"""The client's address: the one place that decides which address a request came from.

`REMOTE_ADDR` unless settings name a header our own proxies set (`TRUSTED_PROXY_HEADER`) and how
many of our proxies append to `X-Forwarded-For` (`TRUSTED_PROXY_HOPS`). A client can write any
header it likes, so none is trusted by default, and `X-Forwarded-For` is read from the right: the
entry `hops` from the end is the one our outermost proxy wrote, everything left of it is the
client's own say. Another header (`X-Real-IP`, `CF-Connecting-IP`) is one our edge sets whole.

Through Shopify's app proxy the connection comes from Shopify, which puts the shopper's address in
`X-Forwarded-For` (shopify.dev, "Authenticate app proxies"); the request is signed, so that entry
(just left of what our own proxies appended) is Shopify's word. Without it the address is unknown
(None), never Shopify's own: that would put every shopper of every shop behind a few addresses.

Limits key IPv6 by its /64 (what one subscriber gets, so rotating within it gains nothing) and
IPv4 by the address.
"""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
FORWARDED_FOR = "x-forwarded-for"


def client_address(request: HttpRequest, *, via_app_proxy: bool = False) -> str | None:
    """The key the per-address limits count under: `203.0.113.7`, `2001:db8:1:2::/64`, or None
    when the address cannot be known."""
    ip = client_ip(request, via_app_proxy=via_app_proxy)
    if ip is None:
        return None
    if isinstance(ip, ipaddress.IPv6Address):
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return str(ip)


def client_ip(request: HttpRequest, *, via_app_proxy: bool = False) -> IPAddress | None:
    """The address of the browser or program that sent the request (see the module docstring)."""
    header = str(settings.TRUSTED_PROXY_HEADER or "").strip()
    ours = int(settings.TRUSTED_PROXY_HOPS) if header else 0  # our proxies' X-Forwarded-For entries
    if via_app_proxy:
        return _from_list(request.headers.get(FORWARDED_FOR), ours + 1)
    if header:
        position = ours if header.lower() == FORWARDED_FOR else 1
        return _from_list(request.headers.get(header), position) or _parse(
            request.META.get("REMOTE_ADDR")
        )
    return _parse(request.META.get("REMOTE_ADDR"))


def _from_list(value: str | None, position: int) -> IPAddress | None:
    """The entry `position` from the right of a comma-separated address list; None when the list
    is shorter (the request did not come through every proxy we trust, so no entry is sure)."""
    entries = [part.strip() for part in (value or "").split(",")]
    return _parse(entries[-position]) if 0 < position <= len(entries) else None


def _parse(raw: str | None) -> IPAddress | None:
    """An address as proxies write it: bare, `[v6]:port` or `v4:port`."""
    text = (raw or "").strip()
    if text.startswith("["):
        text = text[1:].partition("]")[0]
    elif text.count(":") == 1:
        text = text.partition(":")[0]
    try:
        ip = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped  # a dual-stack socket's view of an IPv4 client
    return ip
