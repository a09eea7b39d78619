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
from recommender.kinds import kind_get
from recommender.predictor import Recommender
from recommender.types import Interaction


@dataclass(frozen=True)
class Built:
    model: Recommender
    params: dict[str, Any]  # everything that shaped the model, for MLflow
    result: Any = None  # recommender.types.TrainResult for neural models


def config_with(config: Any, overrides: Mapping[str, Any]) -> Any:
    fields = {f.name: f for f in dataclasses.fields(config)}
    unknown = set(overrides) - set(fields)
    if unknown:
        raise ValueError(f"{type(config).__name__} has no field {', '.join(sorted(unknown))}")
    typed = {name: _typed(getattr(config, name), value) for name, value in overrides.items()}
    return dataclasses.replace(config, **typed)


def _typed(current: Any, value: Any) -> Any:
    """A command line's string as the type of the field's current value; an optional number
    (None by default, such as ``max_seconds``) is read as a float."""
    if not isinstance(value, str):
        return value
    if isinstance(current, bool):
        return value.lower() in ("1", "true", "yes")
    if isinstance(current, int | float | str):
        return type(current)(value)
    return None if value.lower() == "none" else float(value)


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
    spec = kind_get(kind)
    if spec.neural:
        return _neural(
            kind, train, valid, timed, dict(overrides or {}), train_config, init, since, on_epoch
        )
    config = config_with(spec.default_config(timed=timed), overrides or {})
    model = spec.model_class().fit(train, config)  # type: ignore[attr-defined]
    return Built(model, _params(kind, config))


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
    import torch

    from recommender.neural import NeuralRecommender
    from recommender.trainer import fit
    from recommender.types import TrainConfig

    model: NeuralRecommender
    config = train_config or TrainConfig()
    # The seed decides the initial weights too, not only the training after them: one seed,
    # one model.
    torch.manual_seed(config.seed)
    if init is not None:
        if not isinstance(init, NeuralRecommender) or init.kind != kind:
            raise ValueError(f"cannot warm-start {kind} from a {init.kind} model")
        model = init.warm_start(train)
    else:
        spec = kind_get(kind)
        model_config = config_with(spec.default_config(timed=timed), overrides)
        model = spec.model_class().create(model_config, train)  # type: ignore[attr-defined]
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
    return {"kind": kind, **dataclasses.asdict(config)}
