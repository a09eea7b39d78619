"""The registered models as the merchant sees them on /app/models: each retrained kind's
versions, the one serving, and moving `@champion` by hand (a promotion, or a roll-back).

These only read and move aliases in the registry; loading a model is the workers' business
(recs/predictors.py), so the web process that calls this never holds one.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings

from recommender import registry
from recommender.registry import VersionInfo
from shopapp.recs.training import RETRAINED


class UnknownModel(ValueError):
    """A kind that is not retrained, or a version not registered for its kind."""


@dataclass(frozen=True, slots=True)
class ServingModel:
    name: str  # the registered model, slipstream-<kind>
    version: str


def model_versions_list(*, kind: str) -> list[VersionInfo]:
    """Every registered version of `kind`, newest first, with its aliases and metrics."""
    return registry.model_versions(kind=kind, tracking_uri=settings.MLFLOW_TRACKING_URI)


def serving_model_get(*, alias: str) -> ServingModel | None:
    """The version a shop with this `serving_alias` is served, or None when the deployment's
    serving kind has nothing under that alias yet."""
    kind = settings.SERVING_MODEL_KIND
    version = registry.alias_version(
        kind=kind, alias=alias, tracking_uri=settings.MLFLOW_TRACKING_URI
    )
    if version is None:
        return None
    return ServingModel(name=registry.model_name(kind), version=version)


def champion_set(*, kind: str, version: str) -> None:
    """Point `slipstream-<kind>@champion` at `version`; the workers load it within their alias
    check. Raises UnknownModel for a kind that is not retrained or a version not registered, so
    the merchant is told what was wrong rather than shown the registry's own error."""
    if kind not in RETRAINED:
        raise UnknownModel(f"unknown model kind {kind!r}")
    if version not in {v.version for v in model_versions_list(kind=kind)}:
        raise UnknownModel(f"no version {version!r} of {registry.model_name(kind)}")
    registry.set_alias(
        kind=kind, alias="champion", version=version, tracking_uri=settings.MLFLOW_TRACKING_URI
    )
