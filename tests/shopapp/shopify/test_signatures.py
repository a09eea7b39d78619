"""App-proxy signatures: Shopify signs the sorted `key=value` pairs with nothing between them, so a
signed query can be re-split into other pairs under the same signature. Those are refused."""

from __future__ import annotations

import hashlib
import hmac
import time
from urllib.parse import parse_qsl, urlencode

import pytest
from django.conf import settings
from django.test import Client
from shopify_app import verify_app_proxy_req

from shopapp.shopify.signatures import (
    ProxyRequest,
    SignatureRejected,
    app_config,
    app_proxy_sign,
    app_proxy_verify,
)

ATTACKER = "attacker.myshopify.com"
VICTIM = "victim.myshopify.com"
PREFIX = "/apps/slipstream"


def _canonical(pairs: list[tuple[str, str]]) -> str:
    """What Shopify signs: repeated names joined with commas, sorted, no separator."""
    joined: dict[str, list[str]] = {}
    for key, value in pairs:
        if key != "signature":
            joined.setdefault(key, []).append(value)
    return "".join(f"{k}={','.join(v)}" for k, v in sorted(joined.items()))


def _sign(pairs: list[tuple[str, str]]) -> str:
    message = _canonical(pairs).encode()
    signature = hmac.new(settings.SHOPIFY_API_SECRET.encode(), message, hashlib.sha256)
    return urlencode([*pairs, ("signature", signature.hexdigest())])


def _verify(query: str, shop: str) -> ProxyRequest | SignatureRejected:
    return app_proxy_verify(url=f"https://app.example/proxy/tp2?{query}", shop_param=shop)


def _signed_for_the_attacker(customer: str) -> dict[str, str]:
    """What a signer that signs any parameters it is sent (the demo's stand-in proxy, or Shopify's
    if a signed URL ever leaked) gives the attacker's own store: one value smuggles the victim's."""
    query = app_proxy_sign(
        params={
            "a": f"1logged_in_customer_id={customer}shop={VICTIM}shopz=",
            "logged_in_customer_id": "",
            "path_prefix": PREFIX,
            "shop": ATTACKER,
        },
        secret=settings.SHOPIFY_API_SECRET,
    )
    return dict(parse_qsl(query, keep_blank_values=True))


def _signature_alone_accepts(pairs: list[tuple[str, str]]) -> bool:
    """The premise of a forgery: shopifyapp's signature check accepts the re-split query."""
    url = f"https://app.example/proxy/tp2?{urlencode(pairs)}"
    result = verify_app_proxy_req(
        {"method": "GET", "headers": {}, "url": url, "body": ""}, app_config()
    )
    return result.ok


def _resplit(customer: str) -> list[tuple[str, str]]:
    """The attacker's signed query re-split into the victim's shop and customer."""
    signed = _signed_for_the_attacker(customer)
    forged = [
        ("a", "1"),
        ("logged_in_customer_id", customer),
        ("shop", VICTIM),
        ("shopz", f"logged_in_customer_id=path_prefix={PREFIX}shop={ATTACKER}"),
        ("timestamp", signed["timestamp"]),
    ]
    forged = [*forged, ("signature", signed["signature"])]
    assert _signature_alone_accepts(forged)
    return forged


def test_a_resplit_query_cannot_claim_another_shop_and_customer() -> None:
    forged = urlencode(_resplit("42"))
    assert _verify(forged, VICTIM) == SignatureRejected(
        status=400, reason="parameter_logged_in_customer_id_inside_another"
    )


def test_a_resplit_query_with_an_equals_sign_in_a_name_is_refused() -> None:
    signed = _signed_for_the_attacker("42")
    forged = [
        ("a", "1"),
        ("logged_in_customer_id", "42"),
        ("shop", VICTIM),
        ("shopz=logged_in_customer_id", f"path_prefix={PREFIX}shop={ATTACKER}"),
        ("timestamp", signed["timestamp"]),
    ]
    forged = [*forged, ("signature", signed["signature"])]
    assert _signature_alone_accepts(forged)
    query = urlencode(forged)
    assert _verify(query, VICTIM) == SignatureRejected(
        status=400, reason="parameter_name_contains_equals_sign"
    )


@pytest.mark.parametrize(
    "name", ["logged_in_customer_id", "path_prefix", "shop", "timestamp", "signature"]
)
def test_a_reserved_parameter_sent_twice_is_refused(name: str) -> None:
    now = str(int(time.time()))
    pairs = {"logged_in_customer_id": "7", "path_prefix": PREFIX, "shop": ATTACKER}
    pairs["timestamp"] = now
    values = {"shop": VICTIM, "timestamp": now, "logged_in_customer_id": "42"}
    twice = [*pairs.items(), (name, values.get(name, PREFIX))]
    query = _sign(twice) if name != "signature" else _sign(list(pairs.items())) + "&signature=x"
    assert _verify(query, ATTACKER) == SignatureRejected(
        status=400, reason=f"repeated_parameter_{name}"
    )


def test_a_plain_signed_query_with_equals_signs_in_values_verifies() -> None:
    query = app_proxy_sign(
        params={
            "logged_in_customer_id": "42",
            "path_prefix": PREFIX,
            "shop": ATTACKER,
            "url": "https://attacker.myshopify.com/products/shoe?variant=7&ref=a=b",
        },
        secret=settings.SHOPIFY_API_SECRET,
    )
    assert _verify(query, ATTACKER) == ProxyRequest(shop=ATTACKER, logged_in_customer_id="42")


def test_the_proxy_view_refuses_a_resplit_query_for_an_installed_shop(db: None) -> None:
    from shopapp.shops.services import shop_install

    shop_install(domain=VICTIM)
    response = Client().get(f"/proxy/recommendations?{urlencode(_resplit('42'))}")
    assert (response.status_code, response.json()) == (
        400,
        {"error": "parameter_logged_in_customer_id_inside_another"},
    )
