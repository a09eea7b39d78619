"""Scheduled retraining: fit a challenger on recent history, and promote it to @champion only when
it does at least as well as the champion on the same holdout (the last day).

Workers reload a model when `@champion` moves (recs/predictors.py), so a promotion reaches serving
within a minute, with no restart.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings

from recommender import registry
from recommender.covisit import CoVisitation, CoVisitConfig
from recommender.evaluate import evaluate, holdout_cases
from recommender.popularity import Popularity, PopularityConfig
from recommender.predictor import Recommender
from recommender.types import Interaction as Seen
from shopapp.events.models import Interaction
from shopapp.events.normalise import INTENT

log = logging.getLogger(__name__)

TRAIN_DAYS = 30
HOLDOUT = timedelta(days=1)
MAX_ROWS = 2_000_000
K = 10
KINDS = ("popularity", "covisit")


@dataclass(frozen=True, slots=True)
class Retrained:
    kind: str
    version: str
    promoted: bool
    challenger_ndcg: float
    champion_ndcg: float | None
    cases: int
    seconds: float


def _fit(kind: str, history: list[Seen]) -> Recommender:
    if kind == "popularity":
        return Popularity.fit(history, PopularityConfig(half_life_days=3.0))
    if kind == "covisit":
        return CoVisitation.fit(history, CoVisitConfig())
    raise ValueError(f"no trainer for {kind!r}")


def retrain(*, kind: str, now: datetime | None = None) -> Retrained | None:
    """Fit `kind` on the 30 days before the holdout day, register it as @challenger, evaluate it
    and the champion on the holdout day, and promote it if it is not worse. None: no data."""
    started = time.monotonic()
    current = now or datetime.now(UTC)
    holdout_from = current - HOLDOUT
    rows = (
        Interaction.objects.filter(
            shop__uninstalled_at__isnull=True,
            ts__gte=holdout_from - timedelta(days=TRAIN_DAYS),
            ts__lt=current,
            interaction__in=INTENT,
        )
        .order_by("-ts")
        .values_list("user_id", "item_id", "interaction", "ts")[:MAX_ROWS]
    )
    seen = [Seen(user_id=u, item_id=i, interaction=k, ts=ts.timestamp()) for u, i, k, ts in rows]
    train = [s for s in seen if s.ts < holdout_from.timestamp()]
    if not train:
        return None
    cases = holdout_cases(seen, holdout_from=holdout_from.timestamp(), kinds=frozenset(INTENT))
    challenger = _fit(kind, train)
    scored = evaluate(challenger, cases, k=K, exclude_history=False)
    hr, ndcg = scored.hr, scored.ndcg
    uri = settings.MLFLOW_TRACKING_URI
    version = registry.log_and_register(
        model=challenger,
        metrics={"hr_at_10": hr, "ndcg_at_10": ndcg, "holdout_cases": float(len(cases))},
        params={"train_days": TRAIN_DAYS, "holdout": "last day", "n_train": len(train)},
        tracking_uri=uri,
        alias="challenger",
        artifact_location=settings.MLFLOW_ARTIFACT_ROOT,
    )
    champion_ndcg: float | None = None
    try:
        champion = registry.load(kind=kind, alias="champion", tracking_uri=uri)
        champion_ndcg = evaluate(champion.model, cases, k=K, exclude_history=False).ndcg
    except LookupError:
        pass
    promoted = champion_ndcg is None or ndcg >= champion_ndcg
    if promoted:
        registry.set_alias(kind=kind, alias="champion", version=version, tracking_uri=uri)
    log.info(
        "retrained %s v%s: ndcg@10 %.4f vs champion %s over %d cases: %s",
        kind, version, ndcg, champion_ndcg, len(cases), "promoted" if promoted else "kept",
    )  # fmt: skip
    return Retrained(
        kind=kind,
        version=version,
        promoted=promoted,
        challenger_ndcg=ndcg,
        champion_ndcg=champion_ndcg,
        cases=len(cases),
        seconds=time.monotonic() - started,
    )
