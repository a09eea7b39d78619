"""When each shop's models are retrained: one retraining per shop at a time (a single-flight
claim in Redis, taken when it is queued and released when it ends), and which shops are due,
most overdue first. The retraining itself is recs/training.py."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from django.db.models import Max

from shopapp.events.models import Interaction
from shopapp.recs.keys import TRAINING_LOCK_TTL_S, training_lock_key
from shopapp.recs.models import ModelDecision
from shopapp.recs.training import HOLDOUT, TRAIN_DAYS
from shopapp.redis import get_redis
from shopapp.shops.models import Shop

# A shop's models are retrained once a day, or sooner while it has none.
RETRAIN_EVERY = timedelta(days=1)


def retrain_claim(*, shop: str) -> bool:
    """Take the shop's single-flight retraining claim; False when one is queued or running."""
    return bool(get_redis().set(training_lock_key(shop), "1", nx=True, ex=TRAINING_LOCK_TTL_S))


def first_retrain_claim(*, shop: str) -> bool:
    """The claim, for a shop that has never been retrained (its history just arrived)."""
    return not ModelDecision.objects.filter(shop__domain=shop).exists() and retrain_claim(shop=shop)


def retrain_release(*, shop: str) -> None:
    get_redis().delete(training_lock_key(shop))


def shops_due_for_retraining(*, now: datetime | None = None) -> list[str]:
    """Active shops whose models are due, most overdue first: shops with history and no model
    yet (a new install gets its first models within the hour), the one with most history first;
    then those retrained more than a day ago, the stalest first and, as stale, the one with most
    interactions since first. A shop with nothing new since its retraining is not due: its models
    would come out the same."""
    current = now or datetime.now(UTC)
    latest: dict[int, datetime] = dict(
        ModelDecision.objects.values("shop_id")
        .annotate(last=Max("decided_at"))
        .values_list("shop_id", "last")
    )
    due: list[tuple[int, int, int, str]] = []
    window_start = current - HOLDOUT - timedelta(days=TRAIN_DAYS)
    for shop in Shop.objects.filter(uninstalled_at__isnull=True).only("pk", "domain"):
        decided = latest.get(shop.pk)
        if decided is not None and current - decided < RETRAIN_EVERY:
            continue
        new = Interaction.objects.filter(shop=shop, ts__gte=decided or window_start).count()
        if new == 0:
            continue
        stale_days = (current - decided).days if decided is not None else 0
        due.append((0 if decided is None else 1, -stale_days, -new, shop.domain))
    return [domain for *_, domain in sorted(due)]
