"""Shopify's product payloads (webhooks, REST shape) read into our catalogue rows."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any


def _variant_available(variant: dict[str, Any]) -> bool:
    """Sellable now: stock on hand, stock not tracked, or sold while out of stock."""
    if variant.get("inventory_management") in (None, ""):
        return True
    if variant.get("inventory_policy") == "continue":
        return True
    quantity = variant.get("inventory_quantity")
    return isinstance(quantity, int) and quantity > 0


def product_from_webhook(payload: dict[str, Any]) -> dict[str, object] | None:
    """The fields of recs.models.Product from a products/create|update payload; None when the
    payload lacks what a recommendation card needs."""
    product_id = payload.get("id")
    handle, title = payload.get("handle"), payload.get("title")
    if not isinstance(product_id, int) or not isinstance(handle, str) or not isinstance(title, str):
        return None
    variants = [v for v in payload.get("variants") or [] if isinstance(v, dict)]
    prices: list[Decimal] = []
    for variant in variants:
        try:
            prices.append(Decimal(str(variant.get("price"))))
        except InvalidOperation:
            continue
    image = payload.get("image") if isinstance(payload.get("image"), dict) else None
    image_url = str(image.get("src", "")) if image else ""
    return {
        "product_id": str(product_id),
        "handle": handle[:255],
        "title": title[:255],
        "category": str(payload.get("product_type") or "")[:255],
        "price": min(prices) if prices else Decimal("0"),
        "image_url": image_url[:1000],
        "available": any(_variant_available(v) for v in variants),
        # Only an active product published to the online store can be shown.
        "published": payload.get("status", "active") == "active"
        and payload.get("published_at") is not None,
    }
