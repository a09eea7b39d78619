"""Train, evaluate, register: the one path from interactions to a registered model.

The app's retraining (shopapp/recs/training.py, which the scheduler and the demo call) and the
CLI's `train` both come here, so a model is always fitted by `build`, scored on its holdout, logged
with the same metric names, registered as @challenger and, when asked, promoted by the same gate.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from recommender import registry
from recommender.build import Built, build
from recommender.evaluate import Case, Metrics, evaluate, metrics_row, rank_metrics
from recommender.predictor import Recommender
from recommender.types import Interaction


@dataclass(frozen=True, slots=True)
class Registered:
    kind: str
    name: str  # the registered model's name
    version: str
    built: Built
    metrics: Metrics  # of the new model on the holdout cases
    row: dict[str, float]  # metrics_row of those, as logged (with "@" for "_at_")
    train_s: float
    gate: registry.Gate | None  # None: not offered for promotion


def train_and_register(
    *,
    kind: str,
    train: Sequence[Interaction],
    valid: Sequence[Case],
    cases: Sequence[Case],
    timed: bool,
    tracking_uri: str | None,
    artifact_location: str | None,
    k: int = 10,
    deep: int | None = None,
    negatives: int = 0,
    catalogue: Sequence[str] = (),
    exclude_history: bool = True,
    overrides: Mapping[str, Any] | None = None,
    train_config: Any = None,
    init: Recommender | None = None,
    since: float | None = None,
    params: Mapping[str, Any] | None = None,
    promote: bool = False,
    namespace: str | None = None,
) -> Registered:
    """Fit ``kind`` on ``train`` (neural kinds stop early on ``valid``; ``init``/``since`` warm
    start them), score it on ``cases`` ranked ``deep`` (default ``k``) deep, log and register it
    as @challenger, and with ``promote`` move @champion to it unless the champion does worse on
    NDCG@k over the same cases. ``namespace`` registers it among one owner's models (a shop's:
    ``slipstream-<namespace>-<kind>``); None: the global ``slipstream-<kind>``."""
    started = time.perf_counter()
    built = build(
        kind,
        train,
        valid,
        timed=timed,
        overrides=overrides,
        train_config=train_config,
        init=init,
        since=since,
    )
    train_s = time.perf_counter() - started
    metrics = evaluate(
        built.model,
        cases,
        k=deep or k,
        negatives=negatives,
        catalogue=catalogue,
        exclude_history=exclude_history,
    )
    row = metrics_row(metrics, k=k, deep=deep)
    logged = {key.replace("@", "_at_"): float(value) for key, value in row.items()}
    version = registry.log_and_register(
        model=built.model,
        metrics={**logged, "train_s": train_s, "holdout_cases": float(len(cases))},
        params={**built.params, **(params or {})},
        tracking_uri=tracking_uri,
        alias="challenger",
        artifact_location=artifact_location,
        epochs=built.result.epochs if built.result is not None else (),
        namespace=namespace,
    )
    gate = None
    if promote:
        gate = registry.promote_if_not_worse(
            kind=kind,
            version=version,
            challenger_ndcg=rank_metrics(metrics.ranks, k=k)[1],
            cases=cases,
            k=k,
            exclude_history=exclude_history,
            tracking_uri=tracking_uri,
            namespace=namespace,
        )
    return Registered(
        kind=kind,
        name=registry.model_name(kind, namespace=namespace),
        version=version,
        built=built,
        metrics=metrics,
        row=row,
        train_s=train_s,
        gate=gate,
    )
