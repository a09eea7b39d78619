"""Shopify's resource ids: a number (`8077`, a 64-bit integer, so at most 20 digits) or that number
in a global id (`gid://shopify/Product/8077`). The one place that says what such an id looks like,
for products, orders and customers alike. ASCII digits only: str.isdigit and `\\d` also take other
scripts' digits, which Shopify never writes.
"""

from __future__ import annotations

import re

_ID = r"[0-9]{1,20}"
_ID_RE = re.compile(rf"{_ID}")
_GID_RE = re.compile(rf"gid://shopify/([A-Za-z]+)/({_ID})")


def resource_id(value: object) -> str | None:
    """The id if ``value`` is a bare numeric Shopify id, else None."""
    text = str(value if value is not None else "").strip()
    return text if _ID_RE.fullmatch(text) else None


def gid_id(value: object, resource: str | None = None) -> str | None:
    """The numeric id of a global id (of ``resource``, e.g. "Product", when given), else None."""
    found = _GID_RE.fullmatch(str(value if value is not None else "").strip())
    if found is None or (resource is not None and found.group(1) != resource):
        return None
    return found.group(2)


def id_or_gid(value: object, resource: str) -> str | None:
    """The numeric id of ``resource`` written either way, else None."""
    return resource_id(value) or gid_id(value, resource)
