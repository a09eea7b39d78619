"""Redaction reaches the Redis state the collector's limits keep about a visitor."""

from __future__ import annotations

from shopapp.events.models import IdentityLink
from shopapp.events.stream import address_visitors_key, visitor_digest
from shopapp.privacy.services import Person, customer_redact
from shopapp.redis import get_redis
from shopapp.shops.models import Shop
from tests.tp2 import VISITOR, duid_for


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
