from __future__ import annotations

from datetime import UTC, datetime

from shopapp.events.models import IdentityLink, Interaction
from shopapp.events.selectors import histories_before
from shopapp.shops.models import Shop


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
            _row(s, "42", "a", 100),
            _row(s, "42", "b", 200),
            _row(s, "vis-1", "v", 150),  # browsed anonymously, then logged in as 42
            _row(s, "42", "imp", 210, "rec_impression"),  # not an intent: not history
            _row(s, "42", "w", 1000),  # inside the window: the window brings it itself
            _row(s, "other", "x", 120),
        ]
    )
    IdentityLink.objects.create(shop=s, visitor_id="vis-1", customer_id="42")

    got = histories_before(shop_id=s.pk, before={"42": 1000.0, "nobody": 5.0}, limit=3)

    assert got == {"42": [("a", 100.0), ("v", 150.0), ("b", 200.0)], "nobody": []}
    assert histories_before(shop_id=s.pk, before={"42": 1000.0}, limit=2) == {
        "42": [("v", 150.0), ("b", 200.0)]
    }
