"""No one can act as another shopper: what a client sends, directly or through the app proxy,
never reaches a customer's window, history, list, links, export or redaction.

Each request goes through the real collector into the event log, and the logged batches through
the real ingest step, as the consumer and the ingest worker run them.
"""

from __future__ import annotations

import time

import pytest
from django.test import Client

from shopapp.demo.tp2 import DUID, VISITOR, payload, product_event
from shopapp.events.models import IdentityLink, Interaction
from shopapp.events.normalise import interaction_build
from shopapp.events.services import interactions_ingest, tracker_events_ingest
from shopapp.events.stream import STREAM
from shopapp.events.window import window_read
from shopapp.privacy.models import DataExport
from shopapp.privacy.services import Person, customer_export, customer_redact
from shopapp.redis import get_redis
from tests.tp2 import duid_for, logged_batches, proxy_tp2_path

VICTIM = "207119551"  # customer B's Shopify id, which an attacker may well know
ATTACKER = "301"


@pytest.fixture(autouse=True)
def _empty_log(empty_event_log: None) -> None:
    """Every test here starts from an empty event log (tests/conftest.py)."""


def _ingest_logged(shop: str) -> list[str]:
    """Run every logged batch of the shop through ingest, as the worker would."""
    batches = logged_batches(shop)
    get_redis().delete(STREAM)
    return tracker_events_ingest(shop=shop, batches=batches)


def _victim_has_history(shop: str) -> None:
    """Customer B browsed, logged in, a minute ago: their window and history hold item 1."""
    rec = interaction_build(
        shop=shop,
        user_id=f"c:{VICTIM}",
        item_id="1",
        interaction="view",
        ts=time.time() - 60,
        event_id="victim-1",
    )
    interactions_ingest(shop=shop, records=[rec])


def _victims(shop: str) -> tuple[list[tuple[str, str]], list[str]]:
    rows = Interaction.objects.filter(shop__domain=shop, user_id=f"c:{VICTIM}")
    window = window_read(r=get_redis(), shop=shop, user_id=f"c:{VICTIM}")
    return sorted(rows.values_list("item_id", "event_id")), [e.item_id for e in window]


def _now_ms() -> int:
    return int(time.time() * 1000)


def test_the_direct_path_cannot_post_as_a_customer(shop: str, tracking_key: str) -> None:
    _victim_has_history(shop)
    before = _victims(shop)
    forged = [
        product_event(shop=shop, item="66", duid=VICTIM, dtm=_now_ms()),
        product_event(shop=shop, item="67", uid=VICTIM, duid=DUID, dtm=_now_ms()),
        product_event(shop=shop, item="68", duid=f"c:{VICTIM}", dtm=_now_ms()),
    ]
    response = Client().post(
        f"/t/{tracking_key}/com.snowplowanalytics.snowplow/tp2",
        payload(*forged),
        content_type="application/json",
        headers={"Origin": f"https://{shop}"},
    )
    assert response.status_code == 200
    assert _ingest_logged(shop) == [VISITOR]  # only the forger's own visitor id was touched
    assert _victims(shop) == before
    assert sorted(
        Interaction.objects.filter(shop__domain=shop).values_list("user_id", "item_id")
    ) == sorted([(f"c:{VICTIM}", "1"), (VISITOR, "67")])
    assert not IdentityLink.objects.exists()


def test_a_logged_in_shopper_cannot_link_or_merge_another_customer(shop: str) -> None:
    """Customer A, logged in, sends customer B's id as their duid: B is not linked to A, B's
    window does not merge into A's, and A's export and redaction never reach B."""
    _victim_has_history(shop)
    before = _victims(shop)
    event = product_event(shop=shop, item="70", duid=VICTIM, dtm=_now_ms())
    response = Client().post(
        proxy_tp2_path(shop, ATTACKER), payload(event), content_type="application/json"
    )
    assert response.status_code == 200
    assert _ingest_logged(shop) == [f"c:{ATTACKER}"]
    assert _victims(shop) == before
    assert not IdentityLink.objects.exists()
    assert [e.item_id for e in window_read(r=get_redis(), shop=shop, user_id=f"c:{ATTACKER}")] == [
        "70"
    ]

    export_id = customer_export(shop_domain=shop, person=Person(customer_id=ATTACKER))
    exported = DataExport.objects.get(id=export_id).data
    assert [(i["user_id"], i["product_id"]) for i in exported["interactions"]] == [
        (f"c:{ATTACKER}", "70")
    ]
    customer_redact(shop_domain=shop, person=Person(customer_id=ATTACKER))
    assert _victims(shop) == before  # A's redaction deleted nothing of B's


def test_linking_joins_only_the_signed_customer_and_the_visitor_of_the_same_request(
    shop: str,
) -> None:
    mine = duid_for("attacker-browser")
    event = product_event(shop=shop, item="71", duid=mine, dtm=_now_ms())
    Client().post(proxy_tp2_path(shop, ATTACKER), payload(event), content_type="application/json")
    _ingest_logged(shop)
    assert list(IdentityLink.objects.values_list("visitor_id", "customer_id")) == [
        (f"v:{mine}", f"c:{ATTACKER}")
    ]
