"""Which address a request came from (shopapp/web/clientaddr.py)."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import RequestFactory

from shopapp.web.clientaddr import client_address


def _request(remote: str = "203.0.113.7", forwarded: str | None = None, **headers: str) -> Any:
    if forwarded is not None:
        headers["X-Forwarded-For"] = forwarded
    return RequestFactory().post("/", headers=headers, REMOTE_ADDR=remote)


@pytest.mark.parametrize(
    ("remote", "address"),
    [
        ("203.0.113.7", "203.0.113.7"),
        ("2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"),
        ("2001:DB8:1:2::1", "2001:db8:1:2::/64"),
        ("::ffff:198.51.100.4", "198.51.100.4"),  # a dual-stack socket's IPv4 client
        ("", None),
        ("not-an-address", None),
    ],
)
def test_the_address_is_remote_addr_with_ipv6_by_its_64(remote: str, address: str | None) -> None:
    assert client_address(_request(remote)) == address


def test_no_header_is_trusted_by_default() -> None:
    spoofed = _request(forwarded="198.51.100.1", **{"X-Real-IP": "198.51.100.2"})
    assert client_address(spoofed) == "203.0.113.7"


@pytest.mark.parametrize(
    ("hops", "forwarded", "address"),
    [
        (1, "198.51.100.1", "198.51.100.1"),
        (1, "1.1.1.1, 2.2.2.2, 198.51.100.1", "198.51.100.1"),  # the client's own entries: ignored
        (2, "1.1.1.1, 198.51.100.1, 10.0.0.9", "198.51.100.1"),  # a CDN, then our balancer
        (1, "[2001:db8::5]:4431", "2001:db8::/64"),
        (1, "198.51.100.1:5123", "198.51.100.1"),
        # Missing, shorter than the hops we trust, or garbage: REMOTE_ADDR (our proxy), never
        # an entry the client may have written.
        (1, None, "10.0.0.2"),
        (2, "198.51.100.1", "10.0.0.2"),
        (1, "unknown", "10.0.0.2"),
    ],
)
def test_a_configured_header_is_read_from_the_right(
    settings: Any, hops: int, forwarded: str | None, address: str
) -> None:
    settings.TRUSTED_PROXY_HEADER = "X-Forwarded-For"
    settings.TRUSTED_PROXY_HOPS = hops
    assert client_address(_request("10.0.0.2", forwarded)) == address


def test_another_header_can_be_the_trusted_one(settings: Any) -> None:
    settings.TRUSTED_PROXY_HEADER = "CF-Connecting-IP"
    settings.TRUSTED_PROXY_HOPS = 2  # the CDN and our balancer, both appending X-Forwarded-For
    request = _request("10.0.0.2", forwarded="1.1.1.1", **{"CF-Connecting-IP": "198.51.100.3"})
    assert client_address(request) == "198.51.100.3"


@pytest.mark.parametrize(
    ("header", "hops", "forwarded", "address"),
    [
        ("", 1, "198.51.100.1", "198.51.100.1"),  # Shopify connects to us directly
        ("", 1, "6.6.6.6, 198.51.100.1", "198.51.100.1"),  # what the client sent Shopify: ignored
        ("X-Forwarded-For", 1, "198.51.100.1, 23.227.38.1", "198.51.100.1"),  # then our balancer
        ("", 1, None, None),  # Shopify's own address would lump every shopper together
        ("X-Forwarded-For", 1, "23.227.38.1", None),
        # Our edge names the client in its own header and, like every proxy, appends to the list.
        ("CF-Connecting-IP", 2, "198.51.100.1, 23.227.38.1, 10.0.0.9", "198.51.100.1"),
    ],
)
def test_through_the_app_proxy_it_is_shopifys_forwarded_entry(
    settings: Any, header: str, hops: int, forwarded: str | None, address: str | None
) -> None:
    settings.TRUSTED_PROXY_HEADER = header
    settings.TRUSTED_PROXY_HOPS = hops
    request = _request("23.227.38.1", forwarded)
    assert client_address(request, via_app_proxy=True) == address
