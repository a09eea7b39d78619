"""Retention of interaction history: rows older than the shop's setting are deleted.

Run daily by beat (workers/tasks.py). Deletes go in bounded batches, each its own short statement,
so a shop's first run after a long time (or a lowered setting) never holds a long lock or a huge
transaction; a run also stops starting batches after `budget_s`, and whatever it leaves the next
run takes (the deletes are idempotent).
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from shopapp.events.models import Interaction
from shopapp.shops.models import HISTORY_RETENTION_DEFAULT_DAYS, Shop

BATCH_ROWS = 5000
# Per shop and run: up to 1,000,000 rows, far more than a shop's daily intake within its limits.
MAX_BATCHES = 200
# Under the broker's visibility timeout (600 s), so a long run is never delivered a second time.
BUDGET_S = 480.0


def interactions_expire(
    *,
    now: datetime | None = None,
    batch_rows: int = BATCH_ROWS,
    max_batches: int = MAX_BATCHES,
    budget_s: float = BUDGET_S,
) -> int:
    """Delete every shop's interactions older than its `history_retention_days` (uninstalled
    shops too: their history is kept no longer than anyone's). Returns how many rows went."""
    current = now or datetime.now(UTC)
    stop_at = time.monotonic() + budget_s
    deleted = 0
    shops = Shop.objects.values_list("id", "settings__history_retention_days").order_by("id")
    for shop_id, days in shops:
        cutoff = current - timedelta(days=days or HISTORY_RETENTION_DEFAULT_DAYS)
        for _ in range(max_batches):
            if time.monotonic() > stop_at:
                return deleted
            count = _delete_batch(shop_id=shop_id, before=cutoff, rows=batch_rows)
            deleted += count
            if count < batch_rows:
                break
    return deleted


def _delete_batch(*, shop_id: int, before: datetime, rows: int) -> int:
    """Up to `rows` of the shop's interactions with `ts` before `before`; how many went."""
    ids = list(
        Interaction.objects.filter(shop_id=shop_id, ts__lt=before).values_list("id", flat=True)[
            :rows
        ]
    )
    if not ids:
        return 0
    count, _ = Interaction.objects.filter(id__in=ids).delete()
    return count
