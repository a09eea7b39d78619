"""The models a merchant chooses from: their shop's versions listed newest first, `@champion`
moved by hand (and refused for what the shop does not have), a kind pinned, the serving model
named without loading it, and every model of a shop deleted with it."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings

from recommender import registry
from recommender.popularity import Popularity, PopularityConfig
from shopapp.recs.champions import (
    ServingModel,
    UnknownModel,
    champion_set,
    model_versions_list,
    serving_kind_pin,
    serving_model_get,
    shop_models_delete,
)
from shopapp.shops.models import Shop, ShopSettings
from shopapp.shops.services import shop_install

OTHER = "other-shop.myshopify.com"


@pytest.fixture
def two_versions(settings, tmp_path, shop: str) -> None:
    """The shop's popularity v1 and v2, registered in turn, so v2 is the champion and serves;
    another shop has a popularity v1 of its own."""
    settings.MLFLOW_TRACKING_URI = f"sqlite:///{tmp_path / 'mlflow.db'}"
    settings.MLFLOW_ARTIFACT_ROOT = str(tmp_path / "artifacts")
    shop_install(domain=OTHER)
    for domain, ndcgs in ((shop, (0.25, 0.5)), (OTHER, (0.75,))):
        for ndcg in ndcgs:
            registry.log_and_register(
                model=Popularity.from_scores(config=PopularityConfig(), scores={"1": 2.0}),
                metrics={"ndcg_at_10": ndcg},
                params={},
                tracking_uri=settings.MLFLOW_TRACKING_URI,
                artifact_location=settings.MLFLOW_ARTIFACT_ROOT,
                namespace=Shop.objects.get(domain=domain).model_namespace,
            )
    ShopSettings.objects.filter(shop__domain=shop).update(serving_kind="popularity")


def _aliases(shop: str) -> list[tuple[str, list[str], float]]:
    return [
        (v.version, v.aliases, v.metrics["ndcg_at_10"])
        for v in model_versions_list(shop=shop, kind="popularity")
    ]


def test_the_champion_rolls_back_to_an_older_version_of_this_shop_only(
    shop: str, two_versions: None
) -> None:
    assert _aliases(shop) == [("2", ["champion"], 0.5), ("1", [], 0.25)]
    champion_set(shop=shop, kind="popularity", version="1")
    assert _aliases(shop) == [("2", [], 0.5), ("1", ["champion"], 0.25)]
    assert _aliases(OTHER) == [("1", ["champion"], 0.75)]


@pytest.mark.parametrize(
    ("kind", "version", "message"),
    [
        ("popularity", "3", "no version '3' of this shop's popularity model"),
        ("nope", "1", "unknown model kind 'nope'"),
        ("popularity", "", "no version '' of this shop's popularity model"),
    ],
)
def test_what_the_shop_does_not_have_is_refused(
    shop: str, two_versions: None, kind: str, version: str, message: str
) -> None:
    with pytest.raises(UnknownModel) as refused:
        champion_set(shop=shop, kind=kind, version=version)
    assert str(refused.value) == message
    assert _aliases(shop) == [("2", ["champion"], 0.5), ("1", [], 0.25)]


def test_another_shops_version_is_not_this_shops(shop: str, two_versions: None) -> None:
    with pytest.raises(UnknownModel):
        champion_set(shop=OTHER, kind="popularity", version="2")  # only the first shop has a v2
    assert _aliases(OTHER) == [("1", ["champion"], 0.75)]


def test_the_serving_model_is_named_from_its_alias_without_loading_it(
    shop: str, two_versions: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    def load(**_: object) -> None:
        raise AssertionError("the web process loaded a model")

    monkeypatch.setattr(registry, "load", load)
    namespace = Shop.objects.get(domain=shop).model_namespace
    assert serving_model_get(shop=shop) == ServingModel(
        kind="popularity", name=f"slipstream-{namespace}-popularity", version="2", pinned=False
    )
    ShopSettings.objects.filter(shop__domain=shop).update(serving_alias="challenger")
    assert serving_model_get(shop=shop) is None
    assert serving_model_get(shop=OTHER) is None  # it has models, but none chosen to serve


def test_a_kind_is_pinned_only_when_the_shop_has_a_champion_of_it(
    shop: str, two_versions: None
) -> None:
    with pytest.raises(UnknownModel, match="no sasrec model yet"):
        serving_kind_pin(shop=shop, kind="sasrec")
    serving_kind_pin(shop=shop, kind="popularity")
    assert serving_model_get(shop=shop).pinned  # type: ignore[union-attr]
    serving_kind_pin(shop=shop, kind="")
    assert not serving_model_get(shop=shop).pinned  # type: ignore[union-attr]


def test_deleting_a_shops_models_leaves_the_others(shop: str, two_versions: None) -> None:
    artifacts = Path(settings.MLFLOW_ARTIFACT_ROOT)
    files_before = sum(1 for p in artifacts.rglob("*") if p.is_file())
    assert shop_models_delete(shop=shop) == 1
    assert model_versions_list(shop=shop, kind="popularity") == []
    assert _aliases(OTHER) == [("1", ["champion"], 0.75)]
    assert 0 < sum(1 for p in artifacts.rglob("*") if p.is_file()) < files_before
    assert shop_models_delete(shop="never-installed.myshopify.com") == 0
