"""Verification of what Shopify signs, through Shopify's own `shopifyapp` package.

We do not hand-roll HMAC checks `shopifyapp` already does (docs/decisions/0001-shopifyapp.md).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import time
from dataclasses import dataclass
from urllib.parse import urlencode

from django.conf import settings
from shopify_app import AppConfig, verify_app_proxy_req

# Shopify's own strict form of a shop domain (anchored; no lookalike hosts).
SHOP_DOMAIN_RE = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9-]*\.myshopify\.com$")


@dataclass(frozen=True, slots=True)
class ProxyRequest:
    shop: str
    logged_in_customer_id: str | None


@dataclass(frozen=True, slots=True)
class SignatureRejected:
    status: int
    reason: str


def _app_config() -> AppConfig:
    return {
        "client_id": settings.SHOPIFY_API_KEY,
        "client_secret": settings.SHOPIFY_API_SECRET,
        "old_client_secret": settings.SHOPIFY_API_SECRET_OLD or None,
    }


def app_proxy_verify(*, url: str, shop_param: str | None) -> ProxyRequest | SignatureRejected:
    """Check an app-proxy request's signature and timestamp (±90 s, enforced by shopifyapp).

    `shopifyapp` returns the shop without its `.myshopify.com` suffix, so the full domain is taken
    from the (now verified) `shop` parameter and held to Shopify's domain form.
    """
    result = verify_app_proxy_req(
        {"method": "GET", "headers": {}, "url": url, "body": ""}, _app_config()
    )
    if not result.ok:
        return SignatureRejected(status=401, reason=result.log.code)
    if not shop_param or not SHOP_DOMAIN_RE.match(shop_param):
        return SignatureRejected(status=400, reason="invalid_shop_domain")
    return ProxyRequest(
        shop=shop_param.lower(), logged_in_customer_id=result.logged_in_customer_id or None
    )


def app_proxy_sign(*, params: dict[str, str], secret: str, now: float | None = None) -> str:
    """The query string Shopify would forward, signed: for the demo's stand-in proxy and tests.

    Shopify's scheme: sort the parameters, join `key=value` with no separator, HMAC-SHA256 hex.
    """
    signed = {**params, "timestamp": str(int(now if now is not None else time.time()))}
    message = "".join(f"{k}={signed[k]}" for k in sorted(signed))
    signature = hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()
    return urlencode({**signed, "signature": signature})
