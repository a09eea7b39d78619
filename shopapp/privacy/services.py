"""The compliance webhooks' work: a customer's data exported or erased, a shop's data erased.

Where a shopper's data lives (every place is covered here, and tests/integration/test_privacy.py
scans every PostgreSQL row and every Redis key to prove it):
- PostgreSQL: interaction history (user_id is the customer id, or a visitor id linked to it),
  identity links, data exports, the shop's rows of every table.
- Redis: the sliding window `win:{id}`, recommendations `recs:{id}`, the refresh and publish
  claims `recq:{id}` and `pubq:{id}`,
  the per-shopper rate counters `rate:{minute}:{id}`, the dedupe keys `seen:{event_id}` of their
  events, and rejected events kept for the dashboard (`bad`), which may quote their ids.
- Derived data (trending counters, popular lists, trained models) holds item counts and item
  embeddings only, never a shopper id; see docs/decisions/0004-privacy-deletion.md for how
  retraining forgets a redacted customer.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterable
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import redis
from django.db import transaction

from shopapp.events.models import IdentityLink, Interaction
from shopapp.events.rejections import rejections_key
from shopapp.events.stream import GROUP, STREAM, rate_key
from shopapp.events.window import window_key, window_read
from shopapp.privacy.models import DataExport
from shopapp.recs.store import publish_claim_key, recs_key, recs_read, refresh_claim_key
from shopapp.recs.sync import recommendation_unpublish
from shopapp.redis import get_redis
from shopapp.shops.models import Shop, WebhookDelivery
from shopapp.shops.selectors import shop_cache_clear
from shopapp.shops.services import NotInstalled

log = logging.getLogger(__name__)

EXPORT_RETENTION_DAYS = 30

# Remove every element of a list that mentions any of ARGV (plain substring); returns how many.
_LIST_SCRUB = """
local removed = 0
for _, item in ipairs(redis.call('LRANGE', KEYS[1], 0, -1)) do
  for i = 1, #ARGV do
    if string.find(item, ARGV[i], 1, true) then
      removed = removed + redis.call('LREM', KEYS[1], 0, item)
      break
    end
  end
end
return removed
"""


def _glob_escape(text: str) -> str:
    return "".join(f"\\{c}" if c in "*?[]\\" else c for c in text)


def customer_identities(*, shop: Shop, customer_id: str) -> list[str]:
    """The customer's id and every visitor id seen with it (their anonymous browsing)."""
    visitors = IdentityLink.objects.filter(shop=shop, customer_id=customer_id).values_list(
        "visitor_id", flat=True
    )
    return sorted({customer_id, *visitors})


def customer_export(*, shop_domain: str, customer_id: str, data_request_id: str = "") -> int:
    """customers/data_request: everything held about the customer, kept for the merchant.
    Returns the export's id (0 when the shop is unknown: we hold nothing). A request answered
    already (a redelivered webhook) returns that export again."""
    shop = Shop.objects.filter(domain=shop_domain).first()
    if shop is None:
        return 0
    if data_request_id:
        done = DataExport.objects.filter(shop=shop, data_request_id=data_request_id).first()
        if done is not None:
            return done.id
    ids = customer_identities(shop=shop, customer_id=customer_id)
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
        "customer_id": customer_id,
        "generated_at": datetime.now(UTC).isoformat(),
        "linked_visitor_ids": [i for i in ids if i != customer_id],
        "interactions": interactions,
        "recent_window": {user: w for user, w in windows.items() if w},
        "recommendations": recommendations,
    }
    export = DataExport.objects.create(
        shop=shop, customer_id=customer_id, data_request_id=data_request_id, data=data
    )
    return export.id


def customer_redact(*, shop_domain: str, customer_id: str) -> dict[str, int]:
    """customers/redact: the customer's data deleted from every store we keep it in."""
    shop = Shop.objects.filter(domain=shop_domain).first()
    if shop is None:
        return {}
    ids = customer_identities(shop=shop, customer_id=customer_id)
    rows = Interaction.objects.filter(shop=shop, user_id__in=ids)
    event_ids = list(rows.values_list("event_id", flat=True))
    with transaction.atomic():
        counts = {
            "interactions": rows.delete()[0],
            "identity_links": IdentityLink.objects.filter(shop=shop)
            .filter(customer_id__in=ids)
            .delete()[0]
            + IdentityLink.objects.filter(shop=shop, visitor_id__in=ids).delete()[0],
            "exports": DataExport.objects.filter(shop=shop, customer_id__in=ids).delete()[0],
        }
    counts["redis_keys"] = _shopper_keys_delete(
        r=get_redis(), shop=shop_domain, ids=ids, event_ids=event_ids
    )
    # Their metaobject entry at Shopify (only customers have one). An unreachable Shopify raises,
    # and the task is retried: the deletions above are idempotent.
    if shop.is_active:
        with contextlib.suppress(NotInstalled):  # no token: Shopify cannot be reached anyway
            counts["metaobjects"] = recommendation_unpublish(
                shop=shop_domain, user_ids=[customer_id]
            )
    return counts


def _shopper_keys_delete(
    *, r: redis.Redis, shop: str, ids: Iterable[str], event_ids: Iterable[str]
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
    deleted += int(r.eval(_LIST_SCRUB, 1, rejections_key(shop), *ids)) if ids else 0
    return deleted


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
