from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from shopapp.events.models import IdentityLink, Interaction
from shopapp.events.selectors import histories_before
from shopapp.shops.models import Shop

VISIT = "v:3f1c2b9e-0000-4000-8000-000000000001"


def _row(shop: Shop, user: str, item: str, ts: float, kind: str = "view") -> Interaction:
    return Interaction(
        shop=shop,
        user_id=user,
        item_id=item,
        interaction=kind,
        ts=datetime.fromtimestamp(ts, UTC),
        event_id=f"{user}-{item}-{ts}",
    )


def test_long_term_history_is_the_latest_before_the_window_with_linked_visits(shop: str) -> None:
    s = Shop.objects.get(domain=shop)
    Interaction.objects.bulk_create(
        [
            _row(s, "c:42", "a", 100),
            _row(s, "c:42", "b", 200),
            _row(s, VISIT, "v", 150),  # browsed anonymously, then logged in as 42
            _row(s, "c:42", "imp", 210, "rec_impression"),  # not an intent: not history
            _row(s, "c:42", "w", 1000),  # inside the window: the window brings it itself
            _row(s, "v:other", "x", 120),
        ]
    )
    IdentityLink.objects.create(shop=s, visitor_id=VISIT, customer_id="c:42")

    got = histories_before(shop_id=s.pk, before={"c:42": 1000.0, "nobody": 5.0}, limit=3)

    assert got == {"c:42": [("a", 100.0), ("v", 150.0), ("b", 200.0)], "nobody": []}
    assert histories_before(shop_id=s.pk, before={"c:42": 1000.0}, limit=2) == {
        "c:42": [("v", 150.0), ("b", 200.0)]
    }


def test_a_batch_of_visitors_costs_one_query(shop: str, django_assert_num_queries: Any) -> None:
    s = Shop.objects.get(domain=shop)
    Interaction.objects.bulk_create([_row(s, VISIT, "a", 100)])
    # Only customers have visits linked to them: no identity look-up for visitors.
    with django_assert_num_queries(1):
        got = histories_before(shop_id=s.pk, before={VISIT: 1000.0, "v:new": 5.0})
    assert got == {VISIT: [("a", 100.0)], "v:new": []}
