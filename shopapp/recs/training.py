"""Scheduled retraining: fit a challenger on recent history, and promote it to @champion only when
it does at least as well as the champion on the same holdout (the last day).

Neural models (SASRec) are warm-started from their champion: its weights and vocabulary carry
over and a few epochs learn only the day that is new since it was trained, which takes minutes
where a full training takes much longer. With no champion yet they train from scratch. Either
way they stop early on the newest training day's last interaction of each shopper, held out.

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
from recommender.build import NEURAL, Built, build
from recommender.data import hold_out_last
from recommender.evaluate import evaluate, holdout_cases
from recommender.trainer import TrainConfig
from recommender.types import Interaction as Seen
from shopapp.events.models import Interaction
from shopapp.events.normalise import INTENT

log = logging.getLogger(__name__)

TRAIN_DAYS = 30
HOLDOUT = timedelta(days=1)
MAX_ROWS = 2_000_000
K = 10
KINDS = ("popularity", "covisit", "sasrec")
# Within the retrain task's time limit (workers/tasks.py), whatever the shop's size.
FULL_TRAINING = TrainConfig(
    max_epochs=30, patience=3, threads=1, progress=False, max_seconds=1800.0
)
# A few epochs at a higher rate: new products start from random embeddings (docs/benchmarks.md).
WARM_TRAINING = TrainConfig(max_epochs=4, patience=4, learning_rate=3e-3, threads=1, progress=False)


@dataclass(frozen=True, slots=True)
class Retrained:
    kind: str
    version: str
    promoted: bool
    challenger_ndcg: float
    champion_ndcg: float | None
    cases: int
    seconds: float


def _fit(kind: str, train: list[Seen], *, holdout_from: datetime, uri: str) -> Built:
    if kind == "popularity":
        return build(kind, train, [], timed=True, overrides={"half_life_days": 3.0})
    if kind not in NEURAL:
        return build(kind, train, [], timed=True)
    newest = (holdout_from - HOLDOUT).timestamp()
    fit_on, valid = hold_out_last(train, since=newest)
    try:
        champion = registry.load(kind=kind, alias="champion", tracking_uri=uri).model
    except LookupError:
        return build(kind, fit_on, valid, timed=True, train_config=FULL_TRAINING)
    return build(
        kind, fit_on, valid, timed=True, train_config=WARM_TRAINING, init=champion, since=newest
    )


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
    uri = settings.MLFLOW_TRACKING_URI
    built = _fit(kind, train, holdout_from=holdout_from, uri=uri)
    metrics = evaluate(built.model, cases, k=K, exclude_history=False)
    version = registry.log_and_register(
        model=built.model,
        metrics={
            "hr_at_10": metrics.hr,
            "ndcg_at_10": metrics.ndcg,
            "holdout_cases": float(len(cases)),
        },
        params={
            **built.params,
            "train_days": TRAIN_DAYS,
            "holdout": "last day",
            "n_train": len(train),
        },
        tracking_uri=uri,
        alias="challenger",
        artifact_location=settings.MLFLOW_ARTIFACT_ROOT,
        epochs=built.result.epochs if built.result is not None else (),
    )
    gate = registry.promote_if_not_worse(
        kind=kind, version=version, challenger_ndcg=metrics.ndcg, cases=cases, k=K,
        exclude_history=False, tracking_uri=uri,
    )  # fmt: skip
    ndcg, champion_ndcg, promoted = gate.challenger_ndcg, gate.champion_ndcg, gate.promoted
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
