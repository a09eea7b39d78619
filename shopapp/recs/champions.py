"""A shop's registered models as its merchant sees them on /app/models: each retrained kind's
versions, the kind serving and why, moving the shop's `@champion` by hand (a promotion, or a
roll-back), pinning a kind, and deleting every model of a shop.

Every function takes the shop and acts in its namespace only (`slipstream-s<id>-<kind>`), so a
merchant can never reach another shop's models. These only read and move aliases in the registry;
loading a model is the workers' business (recs/predictors.py), so the web process never holds one.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings

from recommender import registry
from recommender.registry import VersionInfo
from shopapp.recs.models import ModelDecision
from shopapp.recs.training import RETRAINED
from shopapp.shops.models import Shop, ShopSettings
from shopapp.shops.selectors import shop_changed


class UnknownModel(ValueError):
    """A kind that is not retrained, or a version not registered for its kind in this shop."""


@dataclass(frozen=True, slots=True)
class ServingModel:
    kind: str
    name: str  # the registered model, slipstream-s<id>-<kind>
    version: str
    pinned: bool


def _namespace(shop: str) -> str:
    return Shop.objects.get(domain=shop).model_namespace


def model_versions_list(*, shop: str, kind: str) -> list[VersionInfo]:
    """Every registered version of the shop's `kind`, newest first, with aliases and metrics."""
    return registry.model_versions(
        kind=kind, tracking_uri=settings.MLFLOW_TRACKING_URI, namespace=_namespace(shop)
    )


def serving_model_get(*, shop: str) -> ServingModel | None:
    """The version the shop is served under its `serving_alias`, or None when nothing serves."""
    row = ShopSettings.objects.select_related("shop").filter(shop__domain=shop).first()
    if row is None or not (row.pinned_kind or row.serving_kind):
        return None
    kind = row.pinned_kind or row.serving_kind
    namespace = row.shop.model_namespace
    version = registry.alias_version(
        kind=kind,
        alias=row.serving_alias,
        tracking_uri=settings.MLFLOW_TRACKING_URI,
        namespace=namespace,
    )
    if version is None:
        return None
    return ServingModel(
        kind=kind,
        name=registry.model_name(kind, namespace=namespace),
        version=version,
        pinned=bool(row.pinned_kind),
    )


def decision_latest(*, shop: str) -> ModelDecision | None:
    """The shop's latest retraining decision, with every candidate's figures."""
    return ModelDecision.objects.filter(shop__domain=shop).order_by("-decided_at").first()


def champion_set(*, shop: str, kind: str, version: str) -> None:
    """Point the shop's `<kind>@champion` at `version`; its workers load it within their alias
    check. Raises UnknownModel for a kind that is not retrained or a version this shop does not
    have, so the merchant is told what was wrong rather than shown the registry's own error."""
    if kind not in RETRAINED:
        raise UnknownModel(f"unknown model kind {kind!r}")
    if version not in {v.version for v in model_versions_list(shop=shop, kind=kind)}:
        raise UnknownModel(f"no version {version!r} of this shop's {kind} model")
    registry.set_alias(
        kind=kind,
        alias="champion",
        version=version,
        tracking_uri=settings.MLFLOW_TRACKING_URI,
        namespace=_namespace(shop),
    )


def serving_kind_pin(*, shop: str, kind: str) -> None:
    """Serve the shop's `kind` whatever retraining finds ("" goes back to the automatic choice).
    A kind the shop has no champion of is refused: pinning it would serve nothing."""
    if kind:
        if kind not in RETRAINED:
            raise UnknownModel(f"unknown model kind {kind!r}")
        has_champion = registry.alias_version(
            kind=kind,
            alias="champion",
            tracking_uri=settings.MLFLOW_TRACKING_URI,
            namespace=_namespace(shop),
        )
        if has_champion is None:
            raise UnknownModel(f"this shop has no {kind} model yet")
    ShopSettings.objects.filter(shop__domain=shop).update(pinned_kind=kind)
    shop_changed(domain=shop)


def shop_models_delete(*, shop: str) -> int:
    """Every registered model of the shop, with its runs and artifacts (uninstall, shop/redact);
    the number of registered models deleted. A shop row already gone has none to find."""
    row = Shop.objects.filter(domain=shop).first()
    if row is None:
        return 0
    return registry.models_delete(
        namespace=row.model_namespace, tracking_uri=settings.MLFLOW_TRACKING_URI
    )
