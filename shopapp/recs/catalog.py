"""Shopify's product data read into our catalogue rows: webhook payloads (REST shape) and the
JSONL of the catalogue bulk query (GraphQL shape)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation
from typing import Any

from shopapp.shopify.ids import gid_id


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


def _numeric_id(gid: object) -> str | None:
    return gid_id(gid)


def _bulk_product(node: dict[str, Any]) -> dict[str, object] | None:
    product_id = _numeric_id(node.get("id"))
    if product_id is None or not node.get("handle") or not node.get("title"):
        return None
    price = ((node.get("priceRangeV2") or {}).get("minVariantPrice")) or {}
    image = (((node.get("featuredMedia") or {}).get("preview") or {}).get("image")) or {}
    try:
        amount = Decimal(str(price.get("amount", "0")))
    except InvalidOperation:
        amount = Decimal("0")
    tracks = bool(node.get("tracksInventory"))
    return {
        "product_id": product_id,
        "handle": str(node["handle"])[:255],
        "title": str(node["title"])[:255],
        "category": str(node.get("productType") or "")[:255],
        "price": amount,
        "currency": str(price.get("currencyCode") or "USD")[:3],
        "image_url": str(image.get("url") or "")[:1000],
        # Without variant detail the bulk query can only say: untracked, or some stock left.
        "available": not tracks or int(node.get("totalInventory") or 0) > 0,
        # Shown on the online store only when active and published to it (it has a URL there).
        "published": node.get("status") == "ACTIVE" and bool(node.get("onlineStoreUrl")),
        "collection_ids": [],
    }


def bulk_catalog_parse(lines: Iterable[str]) -> tuple[list[dict[str, object]], int]:
    """The JSONL of the catalogue bulk query: one line per product, then (anywhere after it) one
    per collection carrying the product's id in `__parentId`. Returns the products with their
    collections, and how many lines could not be read (a broken line is skipped, not fatal)."""
    products: dict[str, dict[str, object]] = {}
    collections: dict[str, list[str]] = {}
    bad = 0
    for line in lines:
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except ValueError:
            bad += 1
            continue
        if not isinstance(row, dict):
            bad += 1
            continue
        parent = row.get("__parentId")
        if parent:
            collection_id = _numeric_id(row.get("id"))
            if collection_id is None:
                bad += 1
                continue
            collections.setdefault(str(parent), []).append(collection_id)
            continue
        product = _bulk_product(row)
        if product is None:
            bad += 1
            continue
        products[str(row["id"])] = product
    for gid, product in products.items():
        product["collection_ids"] = collections.get(gid, [])
    return list(products.values()), bad
