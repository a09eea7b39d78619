"""Reads for serving: a shopper's stored list joined with the catalogue."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from shopapp.recs.models import Product


def products_by_id(*, shop: str, product_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
    rows = Product.objects.filter(shop__domain=shop, product_id__in=list(product_ids)).values(
        "product_id", "handle", "title", "price", "currency", "image_url", "available", "category"
    )
    return {
        row["product_id"]: {
            "item_id": row["product_id"],
            "title": row["title"],
            "price": f"{row['price']:.2f}",
            "currency": row["currency"],
            "url": f"/products/{row['handle']}",
            "image_url": row["image_url"],
            "available": row["available"],
            "category": row["category"],
        }
        for row in rows
    }
