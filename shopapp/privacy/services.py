"""The compliance webhooks' work: a customer's data exported or erased, a shop's data erased.

Where a shopper's data lives (every place is covered here, and tests/integration/test_privacy.py
scans every PostgreSQL row and every Redis key to prove it). Shopper ids carry their kind
(shopapp/events/identity.py); a customer is `c:<id>` plus the ids of `customer_identities`:
- PostgreSQL: interaction history, identity links, order links (who placed an order), data
  exports, payloads of webhook deliveries not yet handled, the shop's rows of every table.
- Redis: the sliding window `win:{id}`, recommendations `recs:{id}`, the refresh and publish
  claims `recq:{id}` and `pubq:{id}`, the per-shopper rate counters `rate:{minute}:{id}`, the
  new-visitor cap's sets `visitors:{address}`, the dedupe keys `seen:{event_id}` of their events,
  and rejected events kept for the dashboard (`bad`), which may quote their ids, in plain text or
  inside base64 fields.
- Derived data (trending counters, popular lists, trained models) holds item counts and item
  embeddings only, never a shopper id; see docs/decisions/0004-privacy-deletion.md for how
  retraining forgets a redacted customer.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import logging
import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import redis
from django.db import transaction
from django.db.models import Q

from shopapp.events.identity import customer_aliases, is_customer, is_visitor
from shopapp.events.models import IdentityLink, Interaction, OrderShopper
from shopapp.events.rejections import rejections_key
from shopapp.events.stream import (
    GROUP,
    STREAM,
    address_visitors_key,
    rate_key,
    visitor_digest,
)
from shopapp.events.window import window_key, window_read
from shopapp.privacy.models import DataExport
from shopapp.privacy.selectors import EXPORT_RETENTION_DAYS
from shopapp.recs.store import publish_claim_key, recs_key, recs_read, refresh_claim_key
from shopapp.recs.sync import recommendation_unpublish
from shopapp.redis import get_redis
from shopapp.shops.models import Shop, WebhookDelivery
from shopapp.shops.selectors import shop_cache_clear
from shopapp.shops.services import NotInstalled

log = logging.getLogger(__name__)


def _glob_escape(text: str) -> str:
    return "".join(f"\\{c}" if c in "*?[]\\" else c for c in text)


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
    counts["redis_keys"] = _shopper_keys_delete(
        r=get_redis(), shop=shop_domain, ids=ids, event_ids=event_ids, person=person
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


def _shopper_keys_delete(
    *, r: redis.Redis, shop: str, ids: Iterable[str], event_ids: Iterable[str], person: Person
) -> int:
    ids = list(ids)
    keys: list[str] = []
    for user in ids:
        keys += [
            window_key(shop, user),
            recs_key(shop, user),
            refresh_claim_key(shop, user),
            publish_claim_key(shop, user),
        ]
        rate_pattern = rate_key(_glob_escape(shop), "*")  # every minute
        keys += r.scan_iter(match=f"{rate_pattern}:{_glob_escape(user)}")
    keys += [f"ss:{shop}:seen:{eid}" for eid in event_ids]
    deleted = 0
    for start in range(0, len(keys), 500):
        deleted += int(r.delete(*keys[start : start + 500]))
    # The new-visitor cap's memory of which visitor ids each address brought (an hour's worth,
    # as digests: a known id's digest is still theirs).
    digests = [visitor_digest(i) for i in ids]
    for key in r.scan_iter(match=address_visitors_key(_glob_escape(shop), "*"), count=1000):
        deleted += int(r.zrem(key, *digests))
    return deleted + _rejections_scrub(r=r, shop=shop, needles=_needles(person, ids))


# A base64 field of a kept rejected event (`ue_px`, `cx`), possibly cut short by the truncation.
_B64_FIELD_RE = re.compile(r'"(?:ue_px|cx)"\s*:\s*"([A-Za-z0-9+/_=-]+)')


def _rejections_scrub(*, r: redis.Redis, shop: str, needles: set[str]) -> int:
    """Remove every kept rejected event that mentions the person, in its text or inside its
    base64 fields (which a plain text search cannot see)."""
    if not needles:
        return 0
    key = rejections_key(shop)
    removed = 0
    for row in cast(list[str], r.lrange(key, 0, -1)):
        text = row.lower() + " ".join(_b64_texts(row)).lower()
        if any(needle in text for needle in needles):
            removed += int(r.lrem(key, 0, row))
    return removed


def _b64_texts(row: str) -> list[str]:
    # The row is JSON holding the event as (escaped) JSON text: unescape once to see the fields.
    plain = row.replace('\\"', '"')
    texts = []
    for encoded in _B64_FIELD_RE.findall(plain):
        usable = encoded[: len(encoded) - len(encoded) % 4] if len(encoded) % 4 == 1 else encoded
        with contextlib.suppress(binascii.Error, ValueError):
            padded = usable + "=" * (-len(usable) % 4)
            texts.append(
                base64.urlsafe_b64decode(padded.replace("+", "-").replace("/", "_")).decode(
                    "utf-8", "replace"
                )
            )
    return texts


def shop_redact(*, shop_domain: str) -> dict[str, int]:
    """shop/redact (48 hours after an uninstall): everything of the shop. A shop that has
    reinstalled since is using the app again: its data stays, and the request is logged."""
    shop = Shop.objects.filter(domain=shop_domain).first()
    if shop is not None and shop.is_active:
        log.warning("shop/redact for %s ignored: the shop has reinstalled the app", shop_domain)
        return {}
    counts: dict[str, int] = {}
    with transaction.atomic():
        if shop is not None:
            counts["rows"] = shop.delete()[0]  # cascades to every table that refers to the shop
        counts["webhooks"] = WebhookDelivery.objects.filter(shop_domain=shop_domain).delete()[0]
    shop_cache_clear()
    counts["redis_keys"] = _shop_keys_delete(r=get_redis(), shop=shop_domain)
    return counts


def _shop_keys_delete(*, r: redis.Redis, shop: str) -> int:
    deleted = 0
    batch: list[str] = []
    for key in r.scan_iter(match=f"ss:{_glob_escape(shop)}:*", count=1000):
        batch.append(key)
        if len(batch) >= 500:
            deleted += int(r.unlink(*batch))
            batch = []
    if batch:
        deleted += int(r.unlink(*batch))
    # Event-log entries of the shop not yet consumed (each entry is one shop's batch).
    entries = cast(list[tuple[str, dict[str, str]]], r.xrange(STREAM))
    stale = [entry_id for entry_id, fields in entries if fields.get("shop") == shop]
    if stale:
        r.xack(STREAM, GROUP, *stale)
        r.xdel(STREAM, *stale)
        deleted += len(stale)
    return deleted


def exports_expire(*, now: datetime | None = None) -> int:
    """Beat: data exports are the merchant's to hand over, not ours to keep."""
    cutoff = (now or datetime.now(UTC)) - timedelta(days=EXPORT_RETENTION_DAYS)
    return DataExport.objects.filter(created_at__lt=cutoff).delete()[0]
