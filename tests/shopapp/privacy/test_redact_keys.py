"""Redaction reaches every Redis key the declarations say is a shopper's, an event's or a shop's,
and the Redis state the collector's limits keep about a visitor."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import cast

import pytest

from shopapp.demo.tp2 import VISITOR
from shopapp.events.keys import STREAM, address_visitors_key
from shopapp.events.models import IdentityLink, Interaction
from shopapp.events.stream import Batch, events_append, visitor_digest
from shopapp.privacy.redis_redact import SCRUBBERS, _scrubber
from shopapp.privacy.services import Person, customer_redact, shop_redact
from shopapp.redis import get_redis
from shopapp.rediskeys import KeyFamily, Scope, declared
from shopapp.shops.models import Shop
from shopapp.shops.services import shop_uninstall
from tests.shopapp.test_rediskeys import sample_key
from tests.tp2 import duid_for


def test_the_new_visitor_caps_memory_forgets_a_redacted_customers_visitors(shop: str) -> None:
    IdentityLink.objects.create(
        shop=Shop.objects.get(domain=shop), visitor_id=VISITOR, customer_id="c:42"
    )
    other = f"v:{duid_for('someone else')}"
    key = address_visitors_key(shop, "203.0.113.7")
    r = get_redis()
    r.zadd(key, {visitor_digest(VISITOR): 1.0, visitor_digest(other): 2.0})
    customer_redact(shop_domain=shop, person=Person(customer_id="42"))
    assert r.zrange(key, 0, -1) == [visitor_digest(other)]


def _interaction(shop: Shop, user_id: str, event_id: str) -> None:
    Interaction.objects.create(
        shop=shop,
        user_id=user_id,
        item_id="7",
        interaction="view",
        ts=datetime(2026, 11, 20, tzinfo=UTC),
        event_id=event_id,
    )


def _shopper_and_event_keys(shop: str, users: list[str], event_ids: list[str]) -> list[str]:
    return [
        *(sample_key(f, shop=shop, user=u) for f in declared(Scope.SHOPPER) for u in users),
        *(sample_key(f, shop=shop, event_id=e) for f in declared(Scope.EVENT) for e in event_ids),
    ]


def test_customer_redact_deletes_every_declared_shopper_and_event_key_of_theirs(
    shop: str,
) -> None:
    """Whatever SHOPPER- or EVENT-scoped family is declared, a redacted customer's keys of it go:
    their own id's, their linked visitor's and their imported email's, and their events'."""
    row = Shop.objects.get(domain=shop)
    IdentityLink.objects.create(shop=row, visitor_id=VISITOR, customer_id="c:42")
    _interaction(row, "c:42", "e-42")
    _interaction(row, VISITOR, "e-42-anonymous")
    _interaction(row, "c:43", "e-43")
    theirs = _shopper_and_event_keys(
        shop, ["c:42", VISITOR, "i:ada@example.com"], ["e-42", "e-42-anonymous"]
    )
    # Another customer's, one whose legacy id merely ends like theirs, and another shop's.
    others = [
        *_shopper_and_event_keys(shop, ["c:43", "x:c:42"], ["e-43"]),
        *_shopper_and_event_keys("other.myshopify.com", ["c:42"], ["e-42"]),
    ]
    r = get_redis()
    for key in (*theirs, *others):
        r.set(key, 1, ex=60)
    assert len(theirs) == 5 * 3 + 2
    assert len(set(theirs)) == len(theirs)

    counts = customer_redact(
        shop_domain=shop, person=Person(customer_id="42", email="ADA@example.com")
    )

    assert [key for key in theirs if r.exists(key)] == []
    assert [key for key in others if not r.exists(key)] == []
    assert counts["redis_keys"] == len(theirs)


def test_every_family_whose_values_name_shoppers_can_be_scrubbed() -> None:
    holding = {family for family in declared() if family.holds_shoppers}
    assert holding == set(SCRUBBERS)
    assert {family.format for family in holding} == {
        "ss:{shop}:visitors:{address}",
        "ss:{shop}:bad",
    }
    undeclared = KeyFamily(
        format="ss:{shop}:notes",
        owner="shopapp.events.keys",
        scope=Scope.SHOP,
        what="x",
        ttl_s=60,
        holds_shoppers=True,
    )
    with pytest.raises(LookupError, match=r"ss:\{shop\}:notes holds shoppers' data"):
        _scrubber(undeclared)


@pytest.mark.usefixtures("empty_event_log")
def test_shop_redact_deletes_every_declared_key_of_the_shop_and_its_waiting_batches(
    shop: str,
) -> None:
    other = "other-shop.myshopify.com"
    families = [f for f in declared() if f.scope is not Scope.GLOBAL]
    theirs = [sample_key(f, shop=shop) for f in families]
    kept = [sample_key(f, shop=other) for f in families]
    r = get_redis()
    for key in (*theirs, *kept):
        r.set(key, 1, ex=60)
    for domain in (shop, other):
        batch = Batch(shop=domain, events=[{"e": "pv"}], received_at=1_767_225_600.0)
        assert (
            events_append(r=r, batch=batch, per_shopper={}, shop_limit=10, shopper_limit=10) is None
        )
    shop_uninstall(domain=shop)

    counts = shop_redact(shop_domain=shop)

    assert [key for key in theirs if r.exists(key)] == []
    assert [key for key in kept if not r.exists(key)] == []
    entries = cast(list[tuple[str, dict[str, str]]], r.xrange(STREAM))
    assert [fields["shop"] for _, fields in entries] == [other]
    # Those keys, the minute counter events_append wrote, and the waiting batch.
    assert counts["redis_keys"] == len(theirs) + 2
