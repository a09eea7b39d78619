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
from recommender.data import hold_out_last
from recommender.evaluate import holdout_cases
from recommender.kinds import KINDS, NEURAL
from recommender.pipeline import train_and_register
from recommender.predictor import Recommender
from recommender.types import Interaction as Seen
from recommender.types import TrainConfig
from shopapp.events.models import Interaction
from shopapp.events.normalise import INTENT
from shopapp.recs.training_status import training_status_set

log = logging.getLogger(__name__)

TRAIN_DAYS = 30
HOLDOUT = timedelta(days=1)
MAX_ROWS = 2_000_000
K = 10
# The kinds retrained every day, of recommender.kinds.KINDS (ALS and SLi-Rec do not lead on our
# benchmarks yet: docs/benchmarks.md).
RETRAINED: tuple[str, ...] = ("popularity", "covisit", "sasrec")
assert set(RETRAINED) <= set(KINDS)
# Recent sales count most: a product's popularity halves every 3 days.
OVERRIDES: dict[str, dict[str, float]] = {"popularity": {"half_life_days": 3.0}}
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


def _warm_start(kind: str, *, uri: str) -> Recommender | None:
    """The kind's champion to warm-start from: neural kinds only, when there is one."""
    if kind not in NEURAL:
        return None
    try:
        return registry.load(kind=kind, alias="champion", tracking_uri=uri).model
    except LookupError:
        return None


def model_retrain(*, kind: str, now: datetime | None = None) -> Retrained | None:
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
    # Neural kinds stop early on the newest training day's last interaction of each shopper.
    newest = (holdout_from - HOLDOUT).timestamp()
    fit_on, valid = hold_out_last(train, since=newest) if kind in NEURAL else (train, [])
    init = _warm_start(kind, uri=uri)
    registered = train_and_register(
        kind=kind,
        train=fit_on,
        valid=valid,
        cases=cases,
        timed=True,
        tracking_uri=uri,
        artifact_location=settings.MLFLOW_ARTIFACT_ROOT,
        k=K,
        # A shopper may come back to a product they viewed: the holdout keeps such targets.
        exclude_history=False,
        overrides=OVERRIDES.get(kind),
        train_config=(WARM_TRAINING if init is not None else FULL_TRAINING)
        if kind in NEURAL
        else None,
        init=init,
        since=newest if init is not None else None,
        params={"train_days": TRAIN_DAYS, "holdout": "last day", "n_train": len(train)},
        promote=True,
    )
    gate = registered.gate
    assert gate is not None  # promote=True always gates
    log.info(
        "retrained %s v%s: ndcg@10 %.4f vs champion %s over %d cases: %s",
        kind, registered.version, gate.challenger_ndcg, gate.champion_ndcg, len(cases),
        "promoted" if gate.promoted else "kept",
    )  # fmt: skip
    return Retrained(
        kind=kind,
        version=registered.version,
        promoted=gate.promoted,
        challenger_ndcg=gate.challenger_ndcg,
        champion_ndcg=gate.champion_ndcg,
        cases=len(cases),
        seconds=time.monotonic() - started,
    )


def models_retrain(*, now: datetime | None = None) -> list[str]:
    """Every retrained kind in turn, its progress kept in the training status; one line per kind
    saying what became of it."""
    done: list[str] = []
    for n, kind in enumerate(RETRAINED):
        training_status_set(
            state="running", step=f"training {kind}", progress=n / len(RETRAINED), done=done
        )
        result = model_retrain(kind=kind, now=now)
        if result is None:
            done.append(f"{kind}: no history to train on")
            continue
        verdict = "promoted" if result.promoted else "kept the champion"
        done.append(f"{kind} v{result.version} (NDCG@10 {result.challenger_ndcg:.4f}): {verdict}")
    training_status_set(state="finished", progress=1.0, done=done)
    return done
