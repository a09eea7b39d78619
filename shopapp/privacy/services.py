"""The compliance webhooks' work: a customer's data exported or erased, a shop's data erased.

Where a shopper's data lives (every place is covered here, and tests/integration/test_privacy.py
scans every PostgreSQL row and every Redis key to prove it). Shopper ids carry their kind
(shopapp/events/identity.py); a customer is `c:<id>` plus the ids of `customer_identities`:
- PostgreSQL: interaction history, identity links, order links (who placed an order), data
  exports, payloads of webhook deliveries not yet handled, the shop's rows of every table.
- Redis: every key of a family declared SHOPPER-scoped (window, recommendations, refresh and
  publish claims, per-shopper rate counters) for each of their ids, every EVENT-scoped key (the
  dedupe marks) of their events, and their traces in the families whose values name shoppers
  (the new-visitor cap's sets, the rejected events kept for the dashboard, which may quote their
  ids in plain text or inside base64 fields): shopapp/privacy/redis_redact.py, from the
  declarations of shopapp/rediskeys.py.
- Derived data (trending counters, popular lists, trained models) holds item counts and item
  embeddings only, never a shopper id; see docs/decisions/0004-privacy-deletion.md for how
  retraining forgets a redacted customer.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Q

from shopapp.events.identity import customer_aliases, is_customer, is_visitor
from shopapp.events.models import IdentityLink, Interaction, OrderShopper
from shopapp.events.window import window_read
from shopapp.privacy.models import DataExport
from shopapp.privacy.redis_redact import shop_keys_delete, shopper_keys_delete
from shopapp.privacy.selectors import EXPORT_RETENTION_DAYS
from shopapp.recs.champions import shop_models_delete
from shopapp.recs.store import recs_read
from shopapp.recs.sync import recommendation_unpublish
from shopapp.redis import get_redis
from shopapp.shops.models import Shop, WebhookDelivery
from shopapp.shops.selectors import shop_changed
from shopapp.shops.services import NotInstalled

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Person:
    """Who a compliance webhook names: Shopify's customer id, and what else may key their rows
    (the email and phone of an imported file, orders they placed as a guest)."""

    customer_id: str
    email: str = ""
    phone: str = ""
    order_ids: tuple[str, ...] = ()


def customer_identities(*, shop: Shop, person: Person) -> list[str]:
    """Every shopper id that holds the person's data: the customer, their imported and legacy
    rows, every visitor id a signed request linked to them (their anonymous browsing), and the
    visitors who placed the guest orders Shopify names."""
    own = customer_aliases(customer_id=person.customer_id, email=person.email, phone=person.phone)
    visitors = IdentityLink.objects.filter(shop=shop, customer_id=own[0]).values_list(
        "visitor_id", flat=True
    )
    guests = OrderShopper.objects.filter(shop=shop, order_id__in=person.order_ids).values_list(
        "user_id", flat=True
    )
    return sorted({*own, *visitors, *guests})


def customer_export(*, shop_domain: str, person: Person, data_request_id: str = "") -> int:
    """customers/data_request: everything held about the customer, kept for the merchant to
    download from the dashboard (and deleted after EXPORT_RETENTION_DAYS). Returns the export's
    id (0 when the shop is unknown: we hold nothing). A request answered already (a redelivered
    webhook) returns that export again."""
    shop = Shop.objects.filter(domain=shop_domain).first()
    if shop is None:
        return 0
    if data_request_id:
        done = DataExport.objects.filter(shop=shop, data_request_id=data_request_id).first()
        if done is not None:
            return done.id
    ids = customer_identities(shop=shop, person=person)
    r = get_redis()
    interactions = [
        {
            "user_id": row.user_id,
            "product_id": row.item_id,
            "interaction": row.interaction,
            "at": row.ts.isoformat(),
            "event_id": row.event_id,
        }
        for row in Interaction.objects.filter(shop=shop, user_id__in=ids).order_by("ts")
    ]
    windows = {
        user: [asdict(e) for e in window_read(r=r, shop=shop_domain, user_id=user)] for user in ids
    }
    recommendations = {
        user: asdict(stored)
        for user in ids
        if (stored := recs_read(r=r, shop=shop_domain, user_id=user)) is not None
    }
    data: dict[str, Any] = {
        "shop": shop_domain,
        "customer_id": person.customer_id,
        "generated_at": datetime.now(UTC).isoformat(),
        "linked_visitor_ids": [i for i in ids if is_visitor(i)],
        "interactions": interactions,
        "recent_window": {user: w for user, w in windows.items() if w},
        "recommendations": recommendations,
    }
    export = DataExport.objects.create(
        shop=shop, customer_id=person.customer_id, data_request_id=data_request_id, data=data
    )
    return export.id


def customer_redact(*, shop_domain: str, person: Person) -> dict[str, int]:
    """customers/redact: the customer's data deleted from every store we keep it in."""
    shop = Shop.objects.filter(domain=shop_domain).first()
    if shop is None:
        return {}
    ids = customer_identities(shop=shop, person=person)
    rows = Interaction.objects.filter(shop=shop, user_id__in=ids)
    event_ids = list(rows.values_list("event_id", flat=True))
    with transaction.atomic():
        counts = {
            "interactions": rows.delete()[0],
            "identity_links": IdentityLink.objects.filter(shop=shop)
            .filter(customer_id__in=ids)
            .delete()[0]
            + IdentityLink.objects.filter(shop=shop, visitor_id__in=ids).delete()[0],
            "order_shoppers": OrderShopper.objects.filter(shop=shop)
            .filter(Q(user_id__in=ids) | Q(order_id__in=person.order_ids))
            .delete()[0],
            "exports": DataExport.objects.filter(
                shop=shop, customer_id=person.customer_id
            ).delete()[0],
            "webhook_payloads": _webhook_payloads_blank(shop_domain=shop_domain, person=person),
        }
    counts["redis_keys"] = shopper_keys_delete(
        r=get_redis(), shop=shop_domain, ids=ids, event_ids=event_ids, needles=_needles(person, ids)
    )
    # Their metaobject entry at Shopify (only customers have one). An unreachable Shopify raises,
    # and the task is retried: the deletions above are idempotent.
    if shop.is_active:
        with contextlib.suppress(NotInstalled):  # no token: Shopify cannot be reached anyway
            counts["metaobjects"] = recommendation_unpublish(
                shop=shop_domain, user_ids=[i for i in ids if is_customer(i)]
            )
    return counts


def _needles(person: Person, ids: Iterable[str]) -> set[str]:
    """How the person may appear in text a client or Shopify sent: ids as sent (without our kind
    prefix), email, phone."""
    found = {i.split(":", 1)[-1] for i in ids} | {person.customer_id}
    found |= {v for v in (person.email.strip().lower(), person.phone.strip()) if v}
    return {n for n in found if n}


def _webhook_payloads_blank(*, shop_domain: str, person: Person) -> int:
    """Deliveries still holding a payload (their handling failed, or has not run) that mention
    the person: blanked, as a handled one's is. The webhook is then a no-op if it runs later."""
    needles = _needles(person, [f"c:{person.customer_id}", *person.order_ids])
    mentioning = [
        delivery.pk
        for delivery in WebhookDelivery.objects.filter(shop_domain=shop_domain).exclude(payload={})
        if _mentions(delivery.payload, needles)
    ]
    return WebhookDelivery.objects.filter(pk__in=mentioning).update(payload={})


def _mentions(value: object, needles: set[str]) -> bool:
    """Any scalar in the JSON value equal (case-insensitively) to a needle; iterative, so no
    payload is too deep to scan."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
        elif item is not None and str(item).strip().lower() in needles:
            return True
    return False


def shop_redact(*, shop_domain: str) -> dict[str, int]:
    """shop/redact (48 hours after an uninstall): everything of the shop. A shop that has
    reinstalled since is using the app again: its data stays, and the request is logged."""
    shop = Shop.objects.filter(domain=shop_domain).first()
    if shop is not None and shop.is_active:
        log.warning("shop/redact for %s ignored: the shop has reinstalled the app", shop_domain)
        return {}
    counts: dict[str, int] = {}
    # First: the shop's row is how its models are found (their names hold its id, not its domain).
    counts["models"] = shop_models_delete(shop=shop_domain)
    with transaction.atomic():
        if shop is not None:
            counts["rows"] = shop.delete()[0]  # cascades to every table that refers to the shop
        counts["webhooks"] = WebhookDelivery.objects.filter(shop_domain=shop_domain).delete()[0]
    shop_changed(domain=shop_domain)  # before the keys go: its counter is one of them
    counts["redis_keys"] = shop_keys_delete(r=get_redis(), shop=shop_domain)
    return counts


def exports_expire(*, now: datetime | None = None) -> int:
    """Beat: data exports are the merchant's to hand over, not ours to keep."""
    cutoff = (now or datetime.now(UTC)) - timedelta(days=EXPORT_RETENTION_DAYS)
    return DataExport.objects.filter(created_at__lt=cutoff).delete()[0]
