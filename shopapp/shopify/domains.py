"""Shop domains: the one check every shop name from outside passes before it is used."""

from __future__ import annotations

import re

# Shopify's strict form (its security check WEAK_SHOP_VALIDATION): a myshopify subdomain, nothing
# else. Matched in full and in ASCII, so `x.myshopify.com.evil.com`, a trailing newline, a port, a
# path or a look-alike Unicode letter all fail.
SHOP_DOMAIN_RE = re.compile(r"[a-z0-9][a-z0-9-]*\.myshopify\.com", re.ASCII)
MAX_LENGTH = 255


def shop_domain_clean(value: object) -> str | None:
    """The shop's myshopify domain, lower-cased, or None when `value` is not exactly one."""
    if not isinstance(value, str) or not value or len(value) > MAX_LENGTH:
        return None
    domain = value.lower()
    # .lower() can turn a non-ASCII character into ASCII (the Kelvin sign K becomes "k"): refuse
    # anything that was not plain ASCII to begin with.
    if not value.isascii() or not SHOP_DOMAIN_RE.fullmatch(domain):
        return None
    return domain
