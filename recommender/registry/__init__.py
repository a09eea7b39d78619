"""MLflow glue: log a model, register it as ``slipstream-[<namespace>-]<kind>``, move aliases,
load for serving, delete a namespace's models.

The only package in the project that imports mlflow (import-linter holds it to that). The
registered artifact is a pyfunc (registry/pyfunc.py) for MLflow's tooling; workers load the saved
model inside it directly, after checking the content hash recorded here (registry/loading.py).
A namespace (an opaque per-shop key such as ``s42``) keeps each shop's models apart; None is the
global namespace of the CLI's dataset models.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import mlflow
import mlflow.pyfunc
import pandas as pd
from mlflow.exceptions import MlflowException

from recommender.evaluate import Case, evaluate
from recommender.predictor import Recommender, load_model
from recommender.registry import tracking
from recommender.registry.deletion import models_delete
from recommender.registry.integrity import HASH_TAG, ModelIntegrityError, tree_digest
from recommender.registry.loading import RESIDENT_TAG, Loaded, load, load_sized

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
from recommender.registry.tracking import EXPERIMENT_NAME, model_name

__all__ = [
    "EXPERIMENT_NAME",
    "HASH_TAG",
    "RESIDENT_TAG",
    "Gate",
    "Loaded",
    "ModelIntegrityError",
    "RecommenderPyfunc",
    "VersionInfo",
    "alias_version",
    "load",
    "load_sized",
    "log_and_register",
    "model_name",
    "model_versions",
    "models_delete",
    "promote_if_not_worse",
    "set_alias",
]

logger = logging.getLogger(__name__)


def log_and_register(
    *,
    model: Recommender,
    metrics: dict[str, float],
    params: dict[str, Any],
    tracking_uri: str | None = None,
    alias: str | None = "champion",
    artifact_location: str | None = None,
    epochs: Sequence[Any] = (),
    namespace: str | None = None,
) -> str:
    """Log ``model`` in a new run of the "slipstream" experiment, register it as
    ``model_name(model.kind, namespace=namespace)``, move ``alias``.

    ``epochs`` (recommender.types.Epoch records) become per-epoch metrics (``epoch_loss``,
    ``valid_hr``, ``valid_ndcg`` stepped by epoch) and a training-curve figure; ``metrics``
    also go in as a table (``metrics.json``). The model artifact holds the saved model (config
    and item vocabulary included), with a signature and an input example; the version is created
    with the saved model's content hash as its ``slipstream.sha256`` tag, which ``load`` checks,
    and its size loaded in memory as ``slipstream.resident_bytes`` (recommender/sizing.py).
    ``artifact_location`` is only used when the experiment does not exist yet. Returns the new
    registered version ("1", "2", ...).
    """
    name = model_name(model.kind, namespace=namespace)
    client = tracking.client(tracking_uri)
    experiment_id = tracking.experiment_id(client, artifact_location)
    with tracking.using(tracking_uri), tempfile.TemporaryDirectory(prefix="slipstream-") as tmp:
        model_dir = Path(tmp) / ARTIFACT_KEY
        model.save(model_dir)
        digest = tree_digest(model_dir)
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
            )
        # Registered apart from log_model so that the version is born with its hash: there is
        # no moment in which a worker could find it unverifiable.
        # Its size loaded, weighed here once rather than by every worker that loads it. Imported
        # here: sizing needs torch, which the web process (it reads aliases) never loads.
        from recommender.sizing import resident_bytes

        resident = resident_bytes(load_model(model_dir))
        tags = {HASH_TAG: digest.sha256, RESIDENT_TAG: str(resident)}
        registered = mlflow.register_model(info.model_uri, name, tags=tags)
    version = str(registered.version)
    if alias is not None:
        client.set_registered_model_alias(name, alias, version)
    return version


def alias_version(
    *, kind: str, alias: str, namespace: str | None = None, tracking_uri: str | None = None
) -> str | None:
    """The version ``alias`` points at, or None when the model or the alias does not exist."""
    name = model_name(kind, namespace=namespace)
    return tracking.alias_version(tracking.client(tracking_uri), name, alias)


def alias_created_at(
    *, kind: str, alias: str, namespace: str | None = None, tracking_uri: str | None = None
) -> float | None:
    """When the version ``alias`` points at was registered (unix seconds); None without one."""
    client = tracking.client(tracking_uri)
    name = model_name(kind, namespace=namespace)
    version = tracking.alias_version(client, name, alias)
    if version is None:
        return None
    return (client.get_model_version(name, version).creation_timestamp or 0) / 1000


def set_alias(
    *,
    kind: str,
    alias: str,
    version: str,
    namespace: str | None = None,
    tracking_uri: str | None = None,
) -> None:
    name = model_name(kind, namespace=namespace)
    tracking.client(tracking_uri).set_registered_model_alias(name, alias, version)


@dataclass(frozen=True, slots=True)
class VersionInfo:
    version: str
    aliases: list[str]
    created_at: float  # unix seconds
    metrics: dict[str, float]
    params: dict[str, str]


def model_versions(
    *, kind: str, namespace: str | None = None, tracking_uri: str | None = None
) -> list[VersionInfo]:
    """Every registered version of the model, newest first, with its run's metrics."""
    client = tracking.client(tracking_uri)
    name = model_name(kind, namespace=namespace)
    try:
        versions = client.search_model_versions(f"name='{name}'")
    except MlflowException as exc:
        if exc.error_code != tracking.NOT_FOUND:
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
    champion_ndcg: float | None  # None: there was no champion that could be loaded
    champion_version: str | None


def promote_if_not_worse(
    *,
    kind: str,
    version: str,
    challenger_ndcg: float,
    cases: Sequence[Case],
    k: int = 10,
    exclude_history: bool = True,
    namespace: str | None = None,
    tracking_uri: str | None = None,
) -> Gate:
    """Score the current champion of ``kind`` on the ``cases`` the challenger (registered as
    ``version``) scored ``challenger_ndcg`` on; move ``@champion`` to the challenger unless it
    does worse on NDCG@k.

    A champion whose files fail their hash check counts as no champion: no worker can serve it,
    so the verified challenger replaces it."""
    champion_ndcg: float | None = None
    champion_version: str | None = None
    try:
        champion = load(kind=kind, alias="champion", namespace=namespace, tracking_uri=tracking_uri)
    except LookupError:
        pass
    except ModelIntegrityError:
        logger.warning("promoting %s version %s over an unverifiable champion", kind, version)
    else:
        champion_version = champion.version
        champion_ndcg = evaluate(champion.model, cases, k=k, exclude_history=exclude_history).ndcg
    promoted = champion_ndcg is None or challenger_ndcg >= champion_ndcg
    if promoted:
        set_alias(
            kind=kind,
            alias="champion",
            version=version,
            namespace=namespace,
            tracking_uri=tracking_uri,
        )
    return Gate(
        promoted=promoted,
        challenger_ndcg=challenger_ndcg,
        champion_ndcg=champion_ndcg,
        champion_version=champion_version,
    )
