"""The models the merchant chooses from: versions listed newest first, `@champion` moved by hand
(and refused for what is not registered), the serving model named without loading it."""

from __future__ import annotations

import pytest

from recommender import registry
from recommender.popularity import Popularity, PopularityConfig
from shopapp.recs.champions import (
    ServingModel,
    UnknownModel,
    champion_set,
    model_versions_list,
    serving_model_get,
)


@pytest.fixture
def two_versions(settings, tmp_path) -> None:
    """slipstream-popularity v1 and v2, registered in turn, so v2 is the champion."""
    settings.MLFLOW_TRACKING_URI = f"sqlite:///{tmp_path / 'mlflow.db'}"
    settings.MLFLOW_ARTIFACT_ROOT = str(tmp_path / "artifacts")
    settings.SERVING_MODEL_KIND = "popularity"
    for ndcg in (0.25, 0.5):
        registry.log_and_register(
            model=Popularity.from_scores(config=PopularityConfig(), scores={"1": 2.0, "2": 1.0}),
            metrics={"ndcg_at_10": ndcg},
            params={},
            tracking_uri=settings.MLFLOW_TRACKING_URI,
            artifact_location=settings.MLFLOW_ARTIFACT_ROOT,
        )


def _aliases() -> list[tuple[str, list[str], float]]:
    return [
        (v.version, v.aliases, v.metrics["ndcg_at_10"])
        for v in model_versions_list(kind="popularity")
    ]


def test_the_champion_rolls_back_to_an_older_version(two_versions: None) -> None:
    assert _aliases() == [("2", ["champion"], 0.5), ("1", [], 0.25)]
    champion_set(kind="popularity", version="1")
    assert _aliases() == [("2", [], 0.5), ("1", ["champion"], 0.25)]


@pytest.mark.parametrize(
    ("kind", "version", "message"),
    [
        ("popularity", "3", "no version '3' of slipstream-popularity"),
        ("nope", "1", "unknown model kind 'nope'"),
        ("popularity", "", "no version '' of slipstream-popularity"),
    ],
)
def test_what_is_not_registered_is_refused(
    two_versions: None, kind: str, version: str, message: str
) -> None:
    with pytest.raises(UnknownModel) as refused:
        champion_set(kind=kind, version=version)
    assert str(refused.value) == message
    assert _aliases() == [("2", ["champion"], 0.5), ("1", [], 0.25)]


def test_the_serving_model_is_named_from_its_alias_without_loading_it(
    two_versions: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    def load(**_: object) -> None:
        raise AssertionError("the web process loaded a model")

    monkeypatch.setattr(registry, "load", load)
    assert serving_model_get(alias="champion") == ServingModel(
        name="slipstream-popularity", version="2"
    )
    assert serving_model_get(alias="challenger") is None
