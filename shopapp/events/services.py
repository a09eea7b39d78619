"""Writes of interactions: the ingest step every accepted event goes through."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from shopapp.events.identity import IdentityError, customer_user
from shopapp.events.models import IdentityLink, Interaction, OrderShopper
from shopapp.events.normalise import (
    INTENT,
    InteractionRecord,
    interaction_build,
    tp2_normalise,
)
from shopapp.events.offline import offline_normalise
from shopapp.events.rejections import rejections_record
from shopapp.events.stream import Batch
from shopapp.events.tp2 import EventError
from shopapp.events.trending import trending_count
from shopapp.events.window import window_merge, window_update
from shopapp.redis import get_redis
from shopapp.shops.models import Shop
from shopapp.shops.selectors import shop_config_cached

log = logging.getLogger(__name__)


def tracker_events_ingest(*, shop: str, batches: Sequence[Batch]) -> list[str]:
    """Collector batches: normalise each event, keep the rejected ones with their reason, record
    the rest. Returns the shoppers whose window changed."""
    records: list[InteractionRecord] = []
    rejected: list[tuple[str, object]] = []
    for batch in batches:
        for raw in batch.events:
            try:
                records.extend(
                    tp2_normalise(
                        shop=shop, raw=raw, received_at=batch.received_at, customer=batch.customer
                    )
                )
            except EventError as exc:
                rejected.append((str(exc), raw))
            except Exception:  # a bug, never the batch's loss: the consumer has acked the batch
                log.exception("normalising one event for %s failed", shop)
                rejected.append(("internal error while normalising (logged)", raw))
    rejections_record(shop=shop, rejected=rejected)
    return interactions_ingest(shop=shop, records=records)


def interactions_ingest(*, shop: str, records: Sequence[InteractionRecord]) -> list[str]:
    """Record a batch: shoppers' windows in Redis, history in the database.

    Idempotent, so a redelivered batch changes nothing: window members and history rows are both
    keyed by event id. Returns the shoppers whose window changed (their recommendations are stale).
    """
    config = shop_config_cached(domain=shop)
    if config is None or not config.active or not config.tracking_enabled:
        return []
    by_user: dict[str, list[InteractionRecord]] = defaultdict(list)
    for rec in records:
        if rec.interaction in INTENT:
            by_user[rec.user_id].append(rec)
    r = get_redis()
    logins: set[tuple[str, str]] = set()
    for rec in records:
        if rec.visitor_id is not None:
            logins.add((rec.visitor_id, rec.user_id))
    for visitor_id, customer_id in sorted(logins):
        window_merge(
            r=r,
            shop=shop,
            visitor_id=visitor_id,
            customer_id=customer_id,
            window_seconds=config.window_seconds,
            max_events=config.window_max_events,
        )
    for user_id, user_records in by_user.items():
        window_update(
            r=r,
            shop=shop,
            user_id=user_id,
            records=user_records,
            window_seconds=config.window_seconds,
            max_events=config.window_max_events,
        )
    _history_append(shop_id=config.shop_id, records=records)
    _identities_link(shop_id=config.shop_id, records=records)
    _order_shoppers_record(shop_id=config.shop_id, records=records)
    trending_count(r=r, shop=shop, records=records)
    return sorted(set(by_user) | {customer for _, customer in logins})


@dataclass(frozen=True, slots=True)
class ImportReport:
    accepted: int
    rejected: list[tuple[int, str]]  # (row number, reason)


def interactions_import(*, shop: str, rows: Iterable[Mapping[str, Any]]) -> ImportReport:
    """Offline history (CSV/JSON Lines rows) into the long-term history, through the normaliser.

    A bad row is reported with its number and reason; the good rows are kept. Re-importing the
    same rows adds nothing (their event ids are digests of the row).
    """
    records: list[InteractionRecord] = []
    rejected: list[tuple[int, str]] = []
    for number, row in enumerate(rows, start=1):
        try:
            records.append(offline_normalise(shop=shop, row=row))
        except EventError as exc:
            rejected.append((number, str(exc)))
    shop_id = Shop.objects.values_list("id", flat=True).get(domain=shop)
    _history_append(shop_id=shop_id, records=records)
    return ImportReport(accepted=len(records), rejected=rejected)


def _identities_link(*, shop_id: int, records: Sequence[InteractionRecord]) -> None:
    pairs = {(rec.visitor_id, rec.user_id) for rec in records if rec.visitor_id}
    if pairs:
        IdentityLink.objects.bulk_create(
            [IdentityLink(shop_id=shop_id, visitor_id=v, customer_id=c) for v, c in pairs],
            ignore_conflicts=True,
        )


def _order_shoppers_record(*, shop_id: int, records: Sequence[InteractionRecord]) -> None:
    pairs = {(rec.order_id, rec.user_id) for rec in records if rec.order_id}
    if pairs:
        OrderShopper.objects.bulk_create(
            [OrderShopper(shop_id=shop_id, order_id=o, user_id=u) for o, u in pairs],
            ignore_conflicts=True,
        )


def _history_append(*, shop_id: int, records: Sequence[InteractionRecord]) -> None:
    Interaction.objects.bulk_create(
        [
            Interaction(
                shop_id=shop_id,
                user_id=rec.user_id,
                item_id=rec.item_id,
                interaction=rec.interaction,
                ts=datetime.fromtimestamp(rec.ts, UTC),
                event_id=rec.event_id,
            )
            for rec in records
        ],
        ignore_conflicts=True,
        batch_size=1000,
    )


def order_purchases_record(*, shop: str, payload: Mapping[str, Any]) -> int:
    """orders/create: each line item a purchase by the ordering customer (what "already bought"
    excludes, and training data). Guest orders carry no customer id: the web pixel's
    checkout_completed covers those shoppers. Returns how many purchases were recorded."""
    customer = payload.get("customer")
    order_id = payload.get("id")
    if not isinstance(customer, Mapping) or not customer.get("id") or not order_id:
        return 0
    try:
        ts = datetime.fromisoformat(str(payload.get("created_at"))).timestamp()
    except ValueError:
        ts = datetime.now(UTC).timestamp()
    records = []
    for line in payload.get("line_items") or []:
        if not isinstance(line, Mapping) or not line.get("product_id"):
            continue  # custom items and tips have no product
        try:
            records.append(
                interaction_build(
                    shop=shop,
                    user_id=customer_user(customer["id"]),
                    item_id=str(line["product_id"]),
                    interaction="purchase",
                    ts=ts,
                    event_id=f"order-{order_id}-{line.get('id', line['product_id'])}",
                    order_id=str(order_id),
                )
            )
        except (EventError, IdentityError):
            continue
    interactions_ingest(shop=shop, records=records)
    return len(records)
