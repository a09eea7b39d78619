"""Reads of the long-term interaction history."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from datetime import UTC, datetime

from django.db.models import Count, F, Window
from django.db.models.functions import RowNumber, TruncMinute

from shopapp.events.identity import is_customer
from shopapp.events.models import IdentityLink, Interaction
from shopapp.events.normalise import INTENT

HISTORY_LIMIT = 50


def histories_before(
    *,
    shop_id: int,
    before: Mapping[str, float],
    limit: int = HISTORY_LIMIT,
    window_rows: int = 50,
) -> dict[str, list[tuple[str, float]]]:
    """Each shopper's latest `limit` intent interactions older than `before[user]` (their window
    starts there), oldest first, including what they did under a visitor id linked to them. One
    query for the whole batch (a window function keeps `limit` rows per shopper)."""
    users = list(before)
    if not users:
        return {}
    owner = {user: user for user in users}
    customers = [user for user in users if is_customer(user)]
    if customers:  # only a customer has visitor ids linked to them: a batch of visitors skips it
        for visitor, customer in IdentityLink.objects.filter(
            shop_id=shop_id, customer_id__in=customers
        ).values_list("visitor_id", "customer_id"):
            owner.setdefault(visitor, customer)
    rows = (
        Interaction.objects.filter(shop_id=shop_id, user_id__in=list(owner), interaction__in=INTENT)
        .annotate(rank=Window(RowNumber(), partition_by=[F("user_id")], order_by=F("ts").desc()))
        # The window's own rows are in the history too (and dropped below): fetch that many more.
        .filter(rank__lte=limit + window_rows)
        .values_list("user_id", "item_id", "ts")
    )
    found: dict[str, list[tuple[str, float]]] = defaultdict(list)
    for user_id, item_id, ts in rows:
        shopper = owner[user_id]
        at = ts.timestamp()
        if at < before[shopper]:
            found[shopper].append((item_id, at))
    return {user: sorted(found[user], key=lambda x: x[1])[-limit:] for user in users}


def events_per_minute(*, shop_id: int, until: float, minutes: int = 60) -> list[int]:
    """Interactions per clock minute, the last `minutes` of them (oldest first; the last is the
    minute under way), by event time. Counted by the database, a row per minute: a busy shop's
    hour is millions of events."""
    start = (int(until // 60) - minutes + 1) * 60
    counts = [0] * minutes
    rows = (
        Interaction.objects.filter(shop_id=shop_id, ts__gte=datetime.fromtimestamp(start, UTC))
        .annotate(minute=TruncMinute("ts"))
        .values("minute")
        .annotate(n=Count("id"))
        .values_list("minute", "n")
    )
    for minute, n in rows:
        index = int((minute.timestamp() - start) // 60)
        if 0 <= index < minutes:
            counts[index] += n
    return counts


def active_shoppers(*, shop_id: int, until: float, minutes: int = 5) -> int:
    since = datetime.fromtimestamp(until - minutes * 60, UTC)
    return (
        Interaction.objects.filter(shop_id=shop_id, ts__gte=since)
        .values("user_id")
        .distinct()
        .count()
    )


def latest_interactions(*, shop_id: int, limit: int = 50) -> list[Interaction]:
    """The newest interactions as normalised (the debugging sink of the pipeline)."""
    return list(Interaction.objects.filter(shop_id=shop_id).order_by("-ts", "-id")[:limit])


def events_since(*, shop_id: int, since: float) -> int:
    """Interactions recorded at or after `since` (a rolling count, unlike the clock minutes)."""
    return Interaction.objects.filter(
        shop_id=shop_id, ts__gte=datetime.fromtimestamp(since, UTC)
    ).count()
