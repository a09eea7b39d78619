from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from shopapp.events.models import Interaction
from shopapp.recs.selectors import recommendation_performance
from shopapp.recs.services import products_upsert
from shopapp.shops.models import Shop

T0 = datetime(2026, 11, 1, tzinfo=UTC)


def test_ctr_and_revenue_attributed_to_recommendations(shop: str) -> None:
    products_upsert(
        shop=shop,
        products=[
            {"product_id": "1", "handle": "a", "title": "A", "price": "30.00"},
            {"product_id": "2", "handle": "b", "title": "B", "price": "12.50"},
        ],
    )
    s = Shop.objects.get(domain=shop)
    rows = [
        ("u1", "1", "rec_impression", 0),
        ("u1", "2", "rec_impression", 0),
        ("u2", "1", "rec_impression", 0),
        ("u2", "2", "rec_impression", 0),
        ("u1", "1", "rec_click", 1),
        ("u1", "1", "purchase", 2),  # clicked, then bought: attributed
        ("u2", "2", "purchase", 3),  # bought without a click: not attributed
        ("u1", "2", "rec_click", 5),
        ("u1", "2", "purchase", 5 + 60 * 24 * 8),  # after 8 days: not
    ]
    Interaction.objects.bulk_create(
        [
            Interaction(
                shop=s,
                user_id=u,
                item_id=i,
                interaction=k,
                ts=T0 + timedelta(minutes=m),
                event_id=f"e{n}",
            )
            for n, (u, i, k, m) in enumerate(rows)
        ]
    )
    got = recommendation_performance(shop=shop, since=T0, until=T0 + timedelta(days=30))
    assert (got.impressions, got.clicks) == (4, 2)
    assert got.click_through_rate == 0.5
    assert (got.attributed_purchases, got.attributed_revenue) == (1, Decimal("30.00"))
