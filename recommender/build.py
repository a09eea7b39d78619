"""Train any model kind by name: the one entry point for the CLI and the app's daily retraining.

    built = build("sasrec", split.train, split.valid, timed=False)
    built.model.recommend(history=..., k=10)

``timed`` says whether the data's timestamps are real (our events, YOOCHOOSE) or only positions
(the Amazon files): co-visitation then pairs any two items of a shopper instead of only those
within an hour. ``overrides`` set model config fields by name ({"dropout": 0.5}).
A neural model given ``init`` (the current champion) is warm-started from it: its weights and
vocabulary are carried over, and only interactions at or after ``since`` are learned.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from recommender.evaluate import Case
from recommender.predictor import Recommender
from recommender.types import Interaction

KINDS = ("popularity", "covisit", "als", "sasrec", "slirec")
NEURAL = ("sasrec", "slirec")


@dataclass(frozen=True)
class Built:
    model: Recommender
    params: dict[str, Any]  # everything that shaped the model, for MLflow
    result: Any = None  # recommender.trainer.TrainResult for neural models


def _with(config: Any, overrides: Mapping[str, Any]) -> Any:
    fields = {f.name: f for f in dataclasses.fields(config)}
    unknown = set(overrides) - set(fields)
    if unknown:
        raise ValueError(f"{type(config).__name__} has no field {', '.join(sorted(unknown))}")
    typed = {}
    for name, value in overrides.items():
        current = getattr(config, name)
        typed[name] = type(current)(value) if isinstance(current, int | float | str) else value
    return dataclasses.replace(config, **typed)


def build(
    kind: str,
    train: Sequence[Interaction],
    valid: Sequence[Case],
    *,
    timed: bool,
    overrides: Mapping[str, Any] | None = None,
    train_config: Any = None,
    init: Recommender | None = None,
    since: float | None = None,
    on_epoch: Callable[[Any], None] | None = None,
) -> Built:
    """Fit a model of ``kind`` on ``train``; neural models stop early on ``valid``."""
    overrides = dict(overrides or {})
    # Without real time, any two items of a shopper co-occur.
    window = 3600.0 if timed else float("inf")
    if kind == "popularity":
        from recommender.popularity import Popularity, PopularityConfig

        config: Any = _with(PopularityConfig(), overrides)
        return Built(Popularity.fit(train, config), _params(kind, config))
    if kind == "covisit":
        from recommender.covisit import CoVisitation, CoVisitConfig

        config = _with(CoVisitConfig(window_s=window), overrides)
        return Built(CoVisitation.fit(train, config), _params(kind, config))
    if kind == "als":
        from recommender.als import ALS, ALSConfig

        config = _with(ALSConfig(), overrides)
        return Built(ALS.fit(train, config), _params(kind, config))
    if kind in NEURAL:
        return _neural(kind, train, valid, timed, overrides, train_config, init, since, on_epoch)
    raise ValueError(f"unknown model kind {kind!r}; known: {', '.join(KINDS)}")


def _neural(
    kind: str,
    train: Sequence[Interaction],
    valid: Sequence[Case],
    timed: bool,
    overrides: dict[str, Any],
    train_config: Any,
    init: Recommender | None,
    since: float | None,
    on_epoch: Callable[[Any], None] | None,
) -> Built:
    from recommender.neural import NeuralRecommender
    from recommender.sasrec import SASRec, SASRecConfig
    from recommender.slirec import SLiRec, SLiRecConfig
    from recommender.trainer import TrainConfig, fit

    model: NeuralRecommender
    if init is not None:
        if not isinstance(init, NeuralRecommender) or init.kind != kind:
            raise ValueError(f"cannot warm-start {kind} from a {init.kind} model")
        model = init.warm_start(train)
    elif kind == "sasrec":
        model = SASRec.create(_with(SASRecConfig(), overrides), train)
    else:
        window = 3600.0 if timed else float("inf")
        model = SLiRec.create(_with(SLiRecConfig(covisit_window_s=window), overrides), train)
    config = train_config or TrainConfig()
    result = fit(model, train, valid, config, since=since, on_epoch=on_epoch)
    params = {
        **_params(kind, model.config),
        **{f"train.{k}": v for k, v in dataclasses.asdict(config).items()},
        "warm_start": init is not None,
        "best_epoch": result.best_epoch,
        "items": len(model.vocab) - 1,
    }
    return Built(model, params, result)


def _params(kind: str, config: Any) -> dict[str, Any]:
    return {"kind": kind, **{k: v for k, v in dataclasses.asdict(config).items()}}
