"""Delete a namespace's registered models with everything that holds their data (for a shop that
uninstalls or is redacted)."""

from __future__ import annotations

import logging
from contextlib import suppress
from pathlib import Path

from mlflow import MlflowClient
from mlflow.entities.model_registry import ModelVersion
from mlflow.exceptions import MlflowException
from mlflow.store.artifact.artifact_repository_registry import get_artifact_repository
from mlflow.utils.file_utils import local_file_uri_to_path
from mlflow.utils.uri import is_local_uri

from recommender.registry import tracking

logger = logging.getLogger(__name__)
_PAGE = 100


def models_delete(*, namespace: str, tracking_uri: str | None = None) -> int:
    """Delete every registered model ``slipstream-<namespace>-*`` (all kinds), its versions, the
    runs and logged models behind them, and their artifacts; returns how many registered models
    went.

    Artifacts go through MLflow's artifact repositories (the calls ``mlflow gc`` makes): a local
    or ``file:`` store removes the directories from disk (and the then empty folder of each run
    or logged model), S3/GCS/Azure/HDFS delete the objects, and ``mlflow-artifacts:`` asks the
    tracking server, which must serve artifacts with deletion allowed. A store that cannot delete
    raises, before the registered model is deleted, so calling again retries everything. Runs and
    logged models are marked deleted (their params and metrics, no product or shopper data, stay
    in the tracking database until ``mlflow gc``)."""
    prefix = tracking.namespace_prefix(namespace)
    client = tracking.client(tracking_uri)
    names = _registered_names(client, prefix)
    for name in names:
        versions = client.search_model_versions(f"name='{name}'")
        with tracking.using(tracking_uri):
            for v in versions:
                _version_data_delete(client, v.run_id, _logged_model_id(v), tracking_uri)
        client.delete_registered_model(name)
        logger.info("deleted registered model %s (%d versions)", name, len(versions))
    return len(names)


def _registered_names(client: MlflowClient, prefix: str) -> list[str]:
    names: list[str] = []
    token: str | None = None
    while True:
        page = client.search_registered_models(
            filter_string=f"name LIKE '{prefix}%'", max_results=_PAGE, page_token=token
        )
        # The prefix has no LIKE wildcard, but some stores match LIKE without case: check again.
        names += [m.name for m in page if m.name.startswith(prefix)]
        token = page.token
        if not token:
            return names


def _logged_model_id(version: ModelVersion) -> str | None:
    # A version registered from a logged model has the source models:/<model id> (MLflow 3);
    # some stores leave the version's own model_id empty.
    if version.model_id:
        return str(version.model_id)
    source = version.source or ""
    if source.startswith("models:/") and "/" not in source[len("models:/") :]:
        return source[len("models:/") :]
    return None


def _version_data_delete(
    client: MlflowClient, run_id: str | None, model_id: str | None, tracking_uri: str | None
) -> None:
    if model_id:
        try:
            logged = client.get_logged_model(model_id)
        except MlflowException as exc:
            if exc.error_code != tracking.NOT_FOUND:
                raise
        else:
            _artifacts_delete(logged.artifact_location, tracking_uri)
            client.delete_logged_model(model_id)
    if run_id:
        try:
            run = client.get_run(run_id)
        except MlflowException as exc:
            if exc.error_code != tracking.NOT_FOUND:
                raise
        else:
            _artifacts_delete(run.info.artifact_uri, tracking_uri)
            if run.info.lifecycle_stage != "deleted":
                client.delete_run(run_id)


def _artifacts_delete(artifact_uri: str, tracking_uri: str | None) -> None:
    get_artifact_repository(artifact_uri, tracking_uri=tracking_uri).delete_artifacts()
    if is_local_uri(artifact_uri, is_tracking_or_registry_uri=False):
        # The store keeps <root>/<run or model id>/artifacts; drop the id's folder once empty.
        with suppress(OSError):
            Path(local_file_uri_to_path(artifact_uri)).parent.rmdir()
