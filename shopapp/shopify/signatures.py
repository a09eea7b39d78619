"""Verification of what Shopify signs, through Shopify's own `shopifyapp` package.

We do not hand-roll HMAC checks `shopifyapp` already does (docs/decisions/0001-shopifyapp.md).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import parse_qs, urlencode, urlsplit

from django.conf import settings
from shopify_app import AppConfig, verify_app_proxy_req, verify_webhook_req

from shopapp.shopify.domains import shop_domain_clean


@dataclass(frozen=True, slots=True)
class ProxyRequest:
    shop: str
    logged_in_customer_id: str | None


@dataclass(frozen=True, slots=True)
class SignatureRejected:
    status: int
    reason: str


@dataclass(frozen=True, slots=True)
class Webhook:
    """A webhook whose HMAC checked out: what Shopify said, and the id to dedupe it on."""

    shop: str
    topic: str
    delivery_id: str  # X-Shopify-Event-Id when sent (stable across retries), else the webhook id
    api_version: str


def app_config() -> AppConfig:
    return {
        "client_id": settings.SHOPIFY_API_KEY,
        "client_secret": settings.SHOPIFY_API_SECRET,
        "old_client_secret": settings.SHOPIFY_API_SECRET_OLD or None,
    }


# The parameters Shopify adds to a proxied request, whose values the app trusts once signed.
PROXY_RESERVED = ("logged_in_customer_id", "path_prefix", "shop", "signature", "timestamp")


def _proxy_query_refused(query: str) -> SignatureRejected | None:
    """Why a proxied query may not be what its signature vouches for, or None.

    Shopify signs the sorted `key=value` pairs joined with nothing between them, so one signed
    string can be split into pairs in other ways. Whoever gets a query of their choosing signed
    (say `a=1logged_in_customer_id=42shop=victim.myshopify.comshopz=` beside Shopify's own
    parameters) could re-split it into `shop=victim.myshopify.com&logged_in_customer_id=42&…`
    under the same signature. A re-split that moves a reserved parameter leaves its name and `=`
    more often in the signed string than the query has that parameter: refused, as are names
    holding `=` and reserved parameters sent twice (which shopifyapp joins with commas).
    """
    params = parse_qs(query, keep_blank_values=True)
    if any("=" in key for key in params):
        return SignatureRejected(status=400, reason="parameter_name_contains_equals_sign")
    for name in PROXY_RESERVED:
        if len(params.get(name, ())) > 1:
            return SignatureRejected(status=400, reason=f"repeated_parameter_{name}")
    signed = "".join(f"{k}={','.join(v)}" for k, v in sorted(params.items()) if k != "signature")
    for name in PROXY_RESERVED:
        if name != "signature" and signed.count(f"{name}=") > len(params.get(name, ())):
            return SignatureRejected(status=400, reason=f"parameter_{name}_inside_another")
    return None


def app_proxy_verify(*, url: str, shop_param: str | None) -> ProxyRequest | SignatureRejected:
    """Check an app-proxy request's signature and timestamp (±90 s, enforced by shopifyapp),
    after refusing a query that could be another one re-split (`_proxy_query_refused`).

    `shopifyapp` returns the shop without its `.myshopify.com` suffix, so the full domain is taken
    from the (now verified) `shop` parameter and held to Shopify's domain form.
    """
    refused = _proxy_query_refused(urlsplit(url).query)
    if refused is not None:
        return refused
    result = verify_app_proxy_req(
        {"method": "GET", "headers": {}, "url": url, "body": ""}, app_config()
    )
    if not result.ok:
        return SignatureRejected(status=401, reason=result.log.code)
    shop = shop_domain_clean(shop_param)
    if shop is None:
        return SignatureRejected(status=400, reason="invalid_shop_domain")
    return ProxyRequest(shop=shop, logged_in_customer_id=result.logged_in_customer_id or None)


def _header(headers: Mapping[str, str], name: str) -> str:
    """A webhook header by name, with or without the X- prefix (Shopify's Events preview)."""
    return headers.get(f"X-{name}") or headers.get(name) or ""


def webhook_verify(*, headers: Mapping[str, str], body: bytes) -> Webhook | SignatureRejected:
    """Check a webhook's HMAC over the raw body (shopifyapp; the old secret too during a
    rotation) and read the headers it vouches for. Shopify wants 401 for a bad signature."""
    try:
        text = body.decode("utf-8")  # shopifyapp takes text; Shopify always sends UTF-8 JSON
    except UnicodeDecodeError:
        return SignatureRejected(status=401, reason="body_not_utf8")
    result = verify_webhook_req(
        {"method": "POST", "headers": dict(headers), "url": "", "body": text}, app_config()
    )
    if not result.ok:
        return SignatureRejected(status=401, reason=result.log.code)
    shop = shop_domain_clean(_header(headers, "Shopify-Shop-Domain"))
    topic = _header(headers, "Shopify-Topic")
    delivery_id = _header(headers, "Shopify-Event-Id") or _header(headers, "Shopify-Webhook-Id")
    if shop is None:
        return SignatureRejected(status=400, reason="invalid_shop_domain")
    if not topic or not delivery_id or len(delivery_id) > 128 or len(topic) > 64:
        return SignatureRejected(status=400, reason="missing_topic_or_id")
    return Webhook(
        shop=shop,
        topic=topic,
        delivery_id=delivery_id,
        api_version=_header(headers, "Shopify-API-Version"),
    )


def webhook_sign(*, body: bytes, secret: str) -> str:
    """The X-Shopify-Hmac-Sha256 value Shopify would send (for the stand-in Shopify and tests)."""
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def app_proxy_sign(*, params: dict[str, str], secret: str, now: float | None = None) -> str:
    """The query string Shopify would forward, signed: for the demo's stand-in proxy and tests.

    Shopify's scheme: sort the parameters, join `key=value` with no separator, HMAC-SHA256 hex.
    """
    signed = {**params, "timestamp": str(int(now if now is not None else time.time()))}
    message = "".join(f"{k}={signed[k]}" for k in sorted(signed))
    signature = hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()
    return urlencode({**signed, "signature": signature})
