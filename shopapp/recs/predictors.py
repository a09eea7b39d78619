"""The serving model, loaded from the MLflow registry once per process.

A worker asks for the predictor on every inference; the registry is consulted at most every
ALIAS_CHECK_S seconds, and the model is reloaded only when the alias points at a new version.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from django.conf import settings

from recommender import registry
from recommender.predictor import Predictor

ALIAS_CHECK_S = 10.0


@dataclass
class _Cached:
    predictor: Predictor | None
    checked_at: float


_cache: dict[tuple[str, str, str], _Cached] = {}
_lock = threading.Lock()


def predictor_get(*, kind: str, alias: str) -> Predictor | None:
    """The model `slipstream-<kind>@<alias>`, or None when none is registered under that alias."""
    key = (settings.MLFLOW_TRACKING_URI, kind, alias)
    now = time.monotonic()
    with _lock:
        cached = _cache.get(key)
        if cached is not None and now - cached.checked_at < ALIAS_CHECK_S:
            return cached.predictor
        version = registry.alias_version(
            kind=kind, alias=alias, tracking_uri=settings.MLFLOW_TRACKING_URI
        )
        if version is None:
            predictor = None
        elif cached is not None and cached.predictor and cached.predictor.version == version:
            predictor = cached.predictor
        else:
            predictor = registry.load(
                kind=kind, alias=alias, tracking_uri=settings.MLFLOW_TRACKING_URI
            )
        _cache[key] = _Cached(predictor=predictor, checked_at=now)
        return predictor
