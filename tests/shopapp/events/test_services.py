from __future__ import annotations

from shopapp.demo.tp2 import VISITOR, page_view, product_event
from shopapp.events.models import Interaction
from shopapp.events.normalise import InteractionRecord
from shopapp.events.rejections import rejections_list
from shopapp.events.services import (
    interactions_import,
    interactions_ingest,
    tracker_events_ingest,
)
from shopapp.events.stream import Batch
from shopapp.events.trending import trending_totals
from shopapp.events.window import window_read
from shopapp.redis import get_redis
from shopapp.shops.models import Shop
from tests.tp2 import duid_for


def _batch(shop: str) -> list[InteractionRecord]:
    return [
        InteractionRecord(
            shop=shop, user_id="u1", item_id="7", interaction="view", ts=100.0, event_id="e1"
        ),
        InteractionRecord(
            shop=shop, user_id="u1", item_id="8", interaction="cart", ts=160.0, event_id="e2"
        ),
        InteractionRecord(
            shop=shop, user_id="u2", item_id="7", interaction="rec_click", ts=170.0, event_id="e3"
        ),
    ]


def test_ingest_twice_is_the_same_as_once(shop: str) -> None:
    assert interactions_ingest(shop=shop, records=_batch(shop)) == ["u1"]
    assert interactions_ingest(shop=shop, records=_batch(shop)) == ["u1"]  # a redelivery
    window = window_read(r=get_redis(), shop=shop, user_id="u1")
    assert [(e.item_id, e.interaction, e.ts) for e in window] == [
        ("7", "view", 100.0),
        ("8", "cart", 160.0),
    ]
    # Widget measurements go to history only, never into a shopper's window.
    assert window_read(r=get_redis(), shop=shop, user_id="u2") == []
    assert sorted(Interaction.objects.values_list("event_id", flat=True)) == ["e1", "e2", "e3"]


def test_uninstalled_shop_records_nothing(shop: str) -> None:
    Shop.objects.filter(domain=shop).update(uninstalled_at="2026-01-01T00:00:00Z")
    assert interactions_ingest(shop=shop, records=_batch(shop)) == []
    assert Interaction.objects.count() == 0


def test_import_keeps_good_rows_and_reports_bad_ones_by_number(shop: str) -> None:
    rows = [
        {"user_id": "u1", "item_id": "7", "interaction_type": "view", "timestamp": "100"},
        {"user_id": "u1", "item_id": "7", "interaction_type": "??", "timestamp": "101"},
        {"user_id": "u2", "item_id": "9", "interaction_type": "purchase", "timestamp": "102"},
    ]
    report = interactions_import(shop=shop, rows=rows)
    assert (report.accepted, report.rejected) == (2, [(2, "unknown interaction_type '??'")])
    again = interactions_import(shop=shop, rows=rows)
    assert again.accepted == 2
    assert Interaction.objects.count() == 2  # re-importing the same file adds nothing


def test_tracker_batches_are_normalised_and_bad_events_kept_with_their_reason(shop: str) -> None:
    good = product_event(shop=shop, item="5")
    bad_id = product_event(shop=shop, item="6", eid="x")
    elsewhere = product_event(shop="other.myshopify.com", item="7")
    users = tracker_events_ingest(
        shop=shop,
        batches=[
            Batch(shop=shop, events=[good, bad_id], received_at=1_767_225_600.0),
            Batch(shop=shop, events=[page_view(shop=shop), elsewhere], received_at=1_767_225_601.0),
        ],
    )
    assert users == [VISITOR]
    assert list(Interaction.objects.values_list("event_id", "item_id")) == [(good["eid"], "5")]
    assert sorted(str(r["reason"]) for r in rejections_list(shop=shop)) == [
        "aid does not name this shop",
        "eid is not a UUID",
    ]


def test_trending_counts_each_event_once_whatever_the_redeliveries(shop: str) -> None:
    interactions_ingest(shop=shop, records=_batch(shop))
    interactions_ingest(shop=shop, records=_batch(shop))  # a redelivery
    # view 7 at t=100 weighs 1, cart 8 at t=160 weighs 3; the widget click is not a signal.
    assert trending_totals(r=get_redis(), shop=shop, since=0, until=200) == {"7": 1.0, "8": 3.0}


def test_a_visitor_who_logs_in_brings_their_window_along(shop: str) -> None:
    """Identity stitching: anonymous views before login join the customer's window, the link is
    kept, and a redelivery of the login batch changes nothing."""
    from shopapp.events.models import IdentityLink

    anonymous = [
        InteractionRecord(
            shop=shop, user_id=VISITOR, item_id="7", interaction="view", ts=100.0, event_id="a1"
        ),
        InteractionRecord(
            shop=shop, user_id=VISITOR, item_id="8", interaction="view", ts=110.0, event_id="a2"
        ),
    ]
    logged_in = [
        InteractionRecord(
            shop=shop,
            user_id="c:555",
            item_id="9",
            interaction="cart",
            ts=130.0,
            event_id="c1",
            visitor_id=VISITOR,
        )
    ]
    interactions_ingest(shop=shop, records=anonymous)
    assert interactions_ingest(shop=shop, records=logged_in) == ["c:555"]
    assert interactions_ingest(shop=shop, records=logged_in) == ["c:555"]  # redelivered

    window = window_read(r=get_redis(), shop=shop, user_id="c:555")
    assert [(e.item_id, e.event_id) for e in window] == [("7", "a1"), ("8", "a2"), ("9", "c1")]
    assert list(IdentityLink.objects.values_list("visitor_id", "customer_id")) == [
        (VISITOR, "c:555")
    ]


def test_a_signed_batch_links_its_visitor_to_the_customer(shop: str) -> None:
    from shopapp.events.models import IdentityLink

    users = tracker_events_ingest(
        shop=shop,
        batches=[
            Batch(
                shop=shop,
                events=[product_event(shop=shop, item="7", duid=duid_for("9"))],
                received_at=1_767_225_600.0,
                customer="c:42",
            )
        ],
    )
    assert users == ["c:42"]
    assert list(IdentityLink.objects.values_list("visitor_id", "customer_id")) == [
        (f"v:{duid_for('9')}", "c:42")
    ]


def test_an_unsigned_batch_with_a_uid_changes_nothing_of_the_customer(shop: str) -> None:
    """A third party with the public tracking key sends `uid` (and a duid of the customer's
    number): nothing lands in the customer's window, history or links."""
    from shopapp.events.models import IdentityLink

    events = [
        product_event(shop=shop, item="7", uid="42"),
        product_event(shop=shop, item="8", duid="42", uid="42"),
    ]
    users = tracker_events_ingest(
        shop=shop, batches=[Batch(shop=shop, events=events, received_at=1_767_225_600.0)]
    )
    assert users == [VISITOR]
    assert list(Interaction.objects.values_list("user_id", "item_id")) == [(VISITOR, "7")]
    assert window_read(r=get_redis(), shop=shop, user_id="c:42") == []
    assert not IdentityLink.objects.exists()
    assert [r["reason"] for r in rejections_list(shop=shop)] == [
        "a visitor id (duid) must be a UUID"
    ]
