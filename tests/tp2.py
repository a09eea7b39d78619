"""Building tracker-protocol payloads for tests, as the Snowplow trackers send them: the events
themselves are built in shopapp/demo/tp2.py (the benchmarks build theirs there too); what only
tests need is here."""

from __future__ import annotations

import uuid
from typing import Any


def duid_for(name: str) -> str:
    """A stable visitor UUID per name, for tests that need several visitors."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"slipstream-test/{name}"))


def proxy_tp2_path(shop: str, customer: str = "") -> str:
    """The collector's app-proxy path, signed as Shopify signs it for a shopper who is logged in
    as `customer` (or logged out): the only way an event can name a customer."""
    from django.conf import settings

    from shopapp.shopify.signatures import app_proxy_sign

    query = app_proxy_sign(
        params={"shop": shop, "logged_in_customer_id": customer, "path_prefix": "/apps/slipstream"},
        secret=settings.SHOPIFY_API_SECRET,
    )
    return f"/proxy/tp2?{query}"


def logged_batches(shop: str) -> list[Any]:
    """The shop's batches in the event log, oldest first: what the consumer will hand to Celery."""
    from typing import cast

    from shopapp.events.stream import STREAM, batch_decode
    from shopapp.redis import get_redis

    entries = cast(list[tuple[str, dict[str, str]]], get_redis().xrange(STREAM))
    return [batch_decode(fields) for _, fields in entries if fields["shop"] == shop]
