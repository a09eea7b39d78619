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


def retrain_release(*, shop: str) -> None:
    get_redis().delete(training_lock_key(shop))


def shops_due_for_retraining(*, now: datetime | None = None) -> list[str]:
    """Active shops whose models are due, most overdue first: shops with history and no model
    yet (a new install gets its first models within the hour), then those whose latest decision
    is older than a day, oldest first."""
    current = now or datetime.now(UTC)
    latest: dict[int, datetime] = dict(
        ModelDecision.objects.values("shop_id")
        .annotate(last=Max("decided_at"))
        .values_list("shop_id", "last")
    )
    due: list[tuple[float, str]] = []
    since = current - HOLDOUT - timedelta(days=TRAIN_DAYS)
    for shop in Shop.objects.filter(uninstalled_at__isnull=True).only("pk", "domain"):
        decided = latest.get(shop.pk)
        if decided is not None and current - decided < RETRAIN_EVERY:
            continue
        if decided is None and not Interaction.objects.filter(shop=shop, ts__gte=since).exists():
            continue
        due.append((decided.timestamp() if decided else float("-inf"), shop.domain))
    return [domain for _, domain in sorted(due)]
