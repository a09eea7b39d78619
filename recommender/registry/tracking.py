"""Where the registry talks to MLflow: registered names, clients, the experiment, and a scoped
switch of mlflow's global tracking URI for its fluent API."""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import mlflow
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException
from mlflow.protos.databricks_pb2 import RESOURCE_ALREADY_EXISTS, RESOURCE_DOES_NOT_EXIST, ErrorCode
from mlflow.tracking._model_registry import utils as _registry_utils
from mlflow.tracking._tracking_service import utils as _tracking_utils

EXPERIMENT_NAME = "slipstream"
NAME_PREFIX = "slipstream-"
NOT_FOUND = ErrorCode.Name(RESOURCE_DOES_NOT_EXIST)
ALREADY_EXISTS = ErrorCode.Name(RESOURCE_ALREADY_EXISTS)
# Lower-case letters and digits only: no "-" (the separator of a name's parts, so one namespace
# can never be a prefix of another's names) and nothing a LIKE filter reads as a wildcard.
_NAMESPACE = re.compile(r"[a-z0-9]{1,32}")
_URI_ENV_VARS = ("MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI")
# mlflow keeps its URIs in process globals; the lock makes our temporary switch safe between
# threads of one process that all go through this module.
_URI_LOCK = threading.RLock()


def namespace_prefix(namespace: str) -> str:
    """The start every registered name of ``namespace`` shares; ValueError for a bad namespace."""
    if not isinstance(namespace, str) or _NAMESPACE.fullmatch(namespace) is None:
        raise ValueError(f"a model namespace is 1-32 lower-case letters or digits: {namespace!r}")
    return f"{NAME_PREFIX}{namespace}-"


def model_name(kind: str, *, namespace: str | None = None) -> str:
    """``slipstream-<kind>`` (the CLI's dataset models) or ``slipstream-<namespace>-<kind>``."""
    if namespace is None:
        return f"{NAME_PREFIX}{kind}"
    return f"{namespace_prefix(namespace)}{kind}"


@contextmanager
def using(tracking_uri: str | None) -> Iterator[None]:
    """Point mlflow's fluent API at ``tracking_uri`` for the block, then put everything back.

    Fluent calls (log_model, download of models:/ URIs) read process globals and environment
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


def client(tracking_uri: str | None) -> MlflowClient:
    return MlflowClient(tracking_uri=tracking_uri, registry_uri=tracking_uri)


def experiment_id(mlflow_client: MlflowClient, artifact_location: str | None) -> str:
    experiment = mlflow_client.get_experiment_by_name(EXPERIMENT_NAME)
    if experiment is not None:
        return str(experiment.experiment_id)
    try:
        created = mlflow_client.create_experiment(
            EXPERIMENT_NAME, artifact_location=artifact_location
        )
        return str(created)
    except MlflowException as exc:
        # Another trainer created it between our lookup and create.
        if exc.error_code != ALREADY_EXISTS:
            raise
        experiment = mlflow_client.get_experiment_by_name(EXPERIMENT_NAME)
        if experiment is None:
            raise
        return str(experiment.experiment_id)


def alias_version(mlflow_client: MlflowClient, name: str, alias: str) -> str | None:
    try:
        registered = mlflow_client.get_registered_model(name)
    except MlflowException as exc:
        if exc.error_code != NOT_FOUND:
            raise
        return None
    version = registered.aliases.get(alias)
    return None if version is None else str(version)
