"""Reads for serving (a shopper's stored list joined with the catalogue) and for the dashboard."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import Count, Exists, OuterRef

from shopapp.events.models import Interaction
from shopapp.recs.champions import decision_latest, model_versions_list, serving_model_get
from shopapp.recs.models import Product
from shopapp.recs.training import RETRAINED


def products_by_id(*, shop: str, product_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
    rows = Product.objects.filter(shop__domain=shop, product_id__in=list(product_ids)).values(
        "product_id",
        "handle",
        "title",
        "price",
        "currency",
        "image_url",
        "available",
        "published",
        "category",
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
            "published": row["published"],
            "category": row["category"],
        }
        for row in rows
    }


ATTRIBUTION_WINDOW = timedelta(days=7)


@dataclass(frozen=True, slots=True)
class Performance:
    """How the recommendations did over a period, for the dashboard."""

    impressions: int  # product cards shown
    clicks: int
    click_through_rate: float  # clicks / impressions
    attributed_purchases: int  # purchases of a product the same shopper clicked in a list
    attributed_revenue: Decimal  # those purchases at the catalogue's current price


def recommendation_performance(*, shop: str, since: datetime, until: datetime) -> Performance:
    """Impressions and clicks come from the block (through the tracker); a purchase is
    attributed to recommendations when the shopper clicked that product in a list within the 7
    days before buying it (last-click, one purchase per product and shopper)."""
    rows = Interaction.objects.filter(shop__domain=shop, ts__gte=since, ts__lt=until)
    counts = dict(
        rows.filter(interaction__in=("rec_impression", "rec_click"))
        .values_list("interaction")
        .annotate(n=Count("id"))
        .values_list("interaction", "n")
    )
    clicks_before = Interaction.objects.filter(
        shop__domain=shop,
        interaction="rec_click",
        user_id=OuterRef("user_id"),
        item_id=OuterRef("item_id"),
        ts__lte=OuterRef("ts"),
        ts__gte=OuterRef("ts") - ATTRIBUTION_WINDOW,
    )
    attributed = list(
        rows.filter(interaction="purchase")
        .filter(Exists(clicks_before))
        .values_list("user_id", "item_id")
        .distinct()
    )
    prices = dict(
        Product.objects.filter(
            shop__domain=shop, product_id__in={item for _, item in attributed}
        ).values_list("product_id", "price")
    )
    impressions, clicks = counts.get("rec_impression", 0), counts.get("rec_click", 0)
    return Performance(
        impressions=impressions,
        clicks=clicks,
        click_through_rate=clicks / impressions if impressions else 0.0,
        attributed_purchases=len(attributed),
        attributed_revenue=sum(
            (prices.get(item, Decimal(0)) for _, item in attributed), Decimal(0)
        ),
    )


def models_status(*, shop: str) -> dict[str, Any]:
    """What serves the shop and why, and each retrained kind's champion and challenger with
    their holdout figures and when they were trained (`manage.py models_status`)."""
    serving = serving_model_get(shop=shop)
    decision = decision_latest(shop=shop)
    kinds: dict[str, dict[str, Any]] = {}
    for kind in RETRAINED:
        versions = model_versions_list(shop=shop, kind=kind)
        kinds[kind] = {
            alias: next(
                (
                    {
                        "version": v.version,
                        "ndcg_at_10": v.metrics.get("ndcg_at_10"),
                        "hr_at_10": v.metrics.get("hr_at_10"),
                        "holdout_cases": v.metrics.get("holdout_cases"),
                        "trained_at": datetime.fromtimestamp(v.created_at, UTC).isoformat(),
                    }
                    for v in versions
                    if alias in v.aliases
                ),
                None,
            )
            for alias in ("champion", "challenger")
        }
    return {
        "shop": shop,
        "serving": {
            "kind": serving.kind,
            "version": serving.version,
            "name": serving.name,
            "pinned": serving.pinned,
        }
        if serving is not None
        else None,
        "reason": "pinned by the merchant"
        if serving is not None and serving.pinned
        else (decision.reason if decision is not None else "never retrained"),
        "decided_at": decision.decided_at.isoformat() if decision is not None else None,
        "kinds": kinds,
    }
