"""Load a registered model for serving from its files alone, after checking their hash.

MLflow's pyfunc loader would import the ``slipstream_pyfunc.py`` stored beside the model, i.e.
run code read from the artifact store. We download only the saved model's directory (JSON config
and vocabulary, numpy arrays read with allow_pickle=False, torch state dicts read with
weights_only=True), verify it against the hash the registry recorded, and load it natively.
"""

from __future__ import annotations

import logging
import tempfile
from dataclasses import dataclass
from pathlib import Path

import mlflow.artifacts

from recommender.predictor import Predictor, load_model
from recommender.registry import tracking
from recommender.registry.integrity import HASH_TAG, ModelIntegrityError, digest_verify
from recommender.registry.pyfunc import MODEL_SUBPATH

logger = logging.getLogger(__name__)

# The loaded model's bytes (recommender/sizing.py), recorded at registration.
RESIDENT_TAG = "slipstream.resident_bytes"


@dataclass(frozen=True, slots=True)
class Loaded:
    predictor: Predictor
    # Its size in memory as registered; for a version registered without one, its size on disk.
    nbytes: int


def load_sized(
    *, kind: str, alias: str, namespace: str | None = None, tracking_uri: str | None = None
) -> Loaded:
    """Load ``<model name>@<alias>`` as a native Predictor, with its saved size.

    Raises LookupError when nothing is registered under that alias, and ModelIntegrityError
    (logged at ERROR) when the stored files do not match the hash recorded at registration.
    """
    name = tracking.model_name(kind, namespace=namespace)
    client = tracking.client(tracking_uri)
    version = tracking.alias_version(client, name, alias)
    if version is None:
        raise LookupError(f"no model registered as {name}@{alias}")
    # The resolved version rather than the alias, so the version we report is the one we
    # loaded even if the alias moves in between.
    tags = client.get_model_version(name, version).tags
    expected = tags.get(HASH_TAG)
    with tempfile.TemporaryDirectory(prefix="slipstream-load-") as tmp:
        with tracking.using(tracking_uri):
            local = mlflow.artifacts.download_artifacts(
                artifact_uri=f"models:/{name}/{version}/{MODEL_SUBPATH}",
                dst_path=tmp,
                tracking_uri=tracking_uri,
            )
        # Verify and load the same local copy, so nothing can change in between.
        root = Path(local)
        try:
            digest = digest_verify(root=root, expected=expected, name=name, version=version)
        except ModelIntegrityError as exc:
            logger.error("refused to load a model: %s", exc)
            raise
        predictor = Predictor(model=load_model(root), version=version, name=name)
    resident = tags.get(RESIDENT_TAG, "")
    return Loaded(
        predictor=predictor, nbytes=int(resident) if resident.isdigit() else digest.nbytes
    )


def load(
    *, kind: str, alias: str, namespace: str | None = None, tracking_uri: str | None = None
) -> Predictor:
    """Load ``<model name>@<alias>`` as a native Predictor; see load_sized."""
    return load_sized(
        kind=kind, alias=alias, namespace=namespace, tracking_uri=tracking_uri
    ).predictor
