"""MLflow glue: log a model, register it as ``slipstream-<kind>``, move aliases, load for serving.

The only package in the project that imports mlflow (import-linter holds it to that). The
registered artifact is a pyfunc (registry/pyfunc.py), which workers unwrap to the native
Recommender.
"""

from __future__ import annotations

import os
import tempfile
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import mlflow
import mlflow.pyfunc
import pandas as pd
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException
from mlflow.protos.databricks_pb2 import RESOURCE_ALREADY_EXISTS, RESOURCE_DOES_NOT_EXIST, ErrorCode
from mlflow.tracking._model_registry import utils as _registry_utils
from mlflow.tracking._tracking_service import utils as _tracking_utils

from recommender.evaluate import Case, evaluate
from recommender.predictor import Predictor, Recommender

# RecommenderPyfunc is also imported from here by the entry point of models registered before the
# pyfunc moved to its own module: it must stay importable as recommender.registry.RecommenderPyfunc.
from recommender.registry.pyfunc import (
    ARTIFACT_KEY,
    ENTRY_POINT,
    SIGNATURE,
    RecommenderPyfunc,
    figure_close,
    input_example,
    training_curves,
)

EXPERIMENT_NAME = "slipstream"
_NOT_FOUND = ErrorCode.Name(RESOURCE_DOES_NOT_EXIST)
_ALREADY_EXISTS = ErrorCode.Name(RESOURCE_ALREADY_EXISTS)
_URI_ENV_VARS = ("MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI")
# mlflow keeps its URIs in process globals; the lock makes our temporary switch safe between
# threads of one process that all go through this module.
_URI_LOCK = threading.RLock()


def model_name(kind: str) -> str:
    return f"slipstream-{kind}"


@contextmanager
def _using(tracking_uri: str | None) -> Iterator[None]:
    """Point mlflow's fluent API at ``tracking_uri`` for the block, then put everything back.

    Fluent calls (log_model, load_model of models:/ URIs) read process globals and environment
    variables; restoring both keeps a caller's own MLFLOW_TRACKING_URI untouched.
    """
    if tracking_uri is None:
        yield
        return
    with _URI_LOCK:
        saved_env = {name: os.environ.get(name) for name in _URI_ENV_VARS}
        saved_tracking = _tracking_utils._tracking_uri
        saved_registry = _registry_utils._registry_uri
        mlflow.set_tracking_uri(tracking_uri)
        mlflow.set_registry_uri(tracking_uri)
        try:
            yield
        finally:
            # None unsets it again; mlflow's own _use_tracking_uri restores the same way.
            mlflow.set_tracking_uri(saved_tracking)  # type: ignore[arg-type]
            _registry_utils._registry_uri = saved_registry
            for name, value in saved_env.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value


def _client(tracking_uri: str | None) -> MlflowClient:
    return MlflowClient(tracking_uri=tracking_uri, registry_uri=tracking_uri)


def _experiment_id(client: MlflowClient, artifact_location: str | None) -> str:
    experiment = client.get_experiment_by_name(EXPERIMENT_NAME)
    if experiment is not None:
        return str(experiment.experiment_id)
    try:
        return str(client.create_experiment(EXPERIMENT_NAME, artifact_location=artifact_location))
    except MlflowException as exc:
        # Another trainer created it between our lookup and create.
        if exc.error_code != _ALREADY_EXISTS:
            raise
        experiment = client.get_experiment_by_name(EXPERIMENT_NAME)
        if experiment is None:
            raise
        return str(experiment.experiment_id)


def log_and_register(
    *,
    model: Recommender,
    metrics: dict[str, float],
    params: dict[str, Any],
    tracking_uri: str | None = None,
    alias: str | None = "champion",
    artifact_location: str | None = None,
    epochs: Sequence[Any] = (),
) -> str:
    """Log ``model`` in a new run of the "slipstream" experiment, register it, move ``alias``.

    ``epochs`` (recommender.types.Epoch records) become per-epoch metrics (``epoch_loss``,
    ``valid_hr``, ``valid_ndcg`` stepped by epoch) and a training-curve figure; ``metrics``
    also go in as a table (``metrics.json``). The model artifact holds the saved model (config
    and item vocabulary included), with a signature and an input example.
    ``artifact_location`` is only used when the experiment does not exist yet. Returns the new
    registered version ("1", "2", ...).
    """
    name = model_name(model.kind)
    client = _client(tracking_uri)
    experiment_id = _experiment_id(client, artifact_location)
    with _using(tracking_uri), tempfile.TemporaryDirectory(prefix="slipstream-model-") as tmp:
        model_dir = Path(tmp) / ARTIFACT_KEY
        model.save(model_dir)
        entry_point = Path(tmp) / "slipstream_pyfunc.py"
        entry_point.write_text(ENTRY_POINT, encoding="utf-8")
        with mlflow.start_run(experiment_id=experiment_id):
            mlflow.log_params({key: str(value)[:6000] for key, value in params.items()})
            mlflow.log_metrics(metrics)
            for e in epochs:
                mlflow.log_metrics(
                    {"epoch_loss": e.loss, "valid_hr": e.valid_hr, "valid_ndcg": e.valid_ndcg},
                    step=e.epoch,
                )
            mlflow.log_table(
                {"metric": list(metrics), "value": list(metrics.values())}, "metrics.json"
            )
            if epochs:
                figure = training_curves(epochs)
                mlflow.log_figure(figure, "training_curves.png")
                figure_close(figure)
            info = mlflow.pyfunc.log_model(
                name=ARTIFACT_KEY,
                python_model=entry_point,
                artifacts={ARTIFACT_KEY: str(model_dir)},
                signature=SIGNATURE,
                input_example=input_example(),
                # Explicit, so mlflow does not spend seconds inferring requirements.
                pip_requirements=[f"mlflow=={mlflow.__version__}", f"pandas=={pd.__version__}"],
                registered_model_name=name,
            )
    version = str(info.registered_model_version)
    if alias is not None:
        client.set_registered_model_alias(name, alias, version)
    return version


def _alias_version(client: MlflowClient, name: str, alias: str) -> str | None:
    try:
        registered = client.get_registered_model(name)
    except MlflowException as exc:
        if exc.error_code != _NOT_FOUND:
            raise
        return None
    version = registered.aliases.get(alias)
    return None if version is None else str(version)


def alias_version(*, kind: str, alias: str, tracking_uri: str | None = None) -> str | None:
    """The version ``alias`` points at, or None when the model or the alias does not exist."""
    return _alias_version(_client(tracking_uri), model_name(kind), alias)


def set_alias(*, kind: str, alias: str, version: str, tracking_uri: str | None = None) -> None:
    _client(tracking_uri).set_registered_model_alias(model_name(kind), alias, version)


def load(*, kind: str, alias: str, tracking_uri: str | None = None) -> Predictor:
    """Load ``slipstream-<kind>@<alias>`` as a native Predictor.

    Raises LookupError when nothing is registered under that alias.
    """
    name = model_name(kind)
    version = _alias_version(_client(tracking_uri), name, alias)
    if version is None:
        raise LookupError(f"no model registered as {name}@{alias}")
    # Load the resolved version rather than the alias, so the version we report is the one we
    # loaded even if the alias moves in between.
    with _using(tracking_uri):
        pyfunc_model = mlflow.pyfunc.load_model(f"models:/{name}/{version}")
    wrapper = pyfunc_model.unwrap_python_model()
    if not isinstance(wrapper, RecommenderPyfunc) or wrapper.model is None:
        raise TypeError(f"{name} version {version} is not a Slipstream recommender")
    return Predictor(model=wrapper.model, version=version, name=name)


@dataclass(frozen=True, slots=True)
class VersionInfo:
    version: str
    aliases: list[str]
    created_at: float  # unix seconds
    metrics: dict[str, float]
    params: dict[str, str]


def model_versions(*, kind: str, tracking_uri: str | None = None) -> list[VersionInfo]:
    """Every registered version of ``slipstream-<kind>``, newest first, with its run's metrics."""
    client = _client(tracking_uri)
    name = model_name(kind)
    try:
        versions = client.search_model_versions(f"name='{name}'")
    except MlflowException as exc:
        if exc.error_code != _NOT_FOUND:
            raise
        return []
    # search_model_versions leaves each version's aliases empty: the registered model has them.
    aliases: dict[str, list[str]] = {}
    if versions:
        for alias, number in client.get_registered_model(name).aliases.items():
            aliases.setdefault(str(number), []).append(alias)
    infos = []
    for v in versions:
        run = client.get_run(v.run_id) if v.run_id else None
        infos.append(
            VersionInfo(
                version=str(v.version),
                aliases=sorted(aliases.get(str(v.version), [])),
                created_at=(v.creation_timestamp or 0) / 1000,
                metrics=dict(run.data.metrics) if run else {},
                params=dict(run.data.params) if run else {},
            )
        )
    return sorted(infos, key=lambda i: int(i.version), reverse=True)


@dataclass(frozen=True, slots=True)
class Gate:
    promoted: bool
    challenger_ndcg: float
    champion_ndcg: float | None  # None: there was no champion
    champion_version: str | None


def promote_if_not_worse(
    *,
    kind: str,
    version: str,
    challenger_ndcg: float,
    cases: Sequence[Case],
    k: int = 10,
    exclude_history: bool = True,
    tracking_uri: str | None = None,
) -> Gate:
    """Score the current champion of ``kind`` on the ``cases`` the challenger (registered as
    ``version``) scored ``challenger_ndcg`` on; move ``@champion`` to the challenger unless it
    does worse on NDCG@k."""
    champion_ndcg: float | None = None
    champion_version: str | None = None
    try:
        champion = load(kind=kind, alias="champion", tracking_uri=tracking_uri)
    except LookupError:
        pass
    else:
        champion_version = champion.version
        champion_ndcg = evaluate(champion.model, cases, k=k, exclude_history=exclude_history).ndcg
    promoted = champion_ndcg is None or challenger_ndcg >= champion_ndcg
    if promoted:
        set_alias(kind=kind, alias="champion", version=version, tracking_uri=tracking_uri)
    return Gate(
        promoted=promoted,
        challenger_ndcg=challenger_ndcg,
        champion_ndcg=champion_ndcg,
        champion_version=champion_version,
    )
