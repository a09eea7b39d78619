import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import mlflow
import pandas as pd
import pytest

from recommender import registry
from recommender.popularity import Popularity, PopularityConfig
from recommender.synthetic import generate_store
from recommender.types import Scored

pytestmark = pytest.mark.integration

HISTORIES = [[("1001", 1.0), ("1002", 2.0)], [], [("1010", 3.0)]]


@dataclass(frozen=True)
class Tracking:
    uri: str
    artifacts: Path


@pytest.fixture
def tracking(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Tracking]:
    # Run from an empty directory and check it stays empty: nothing (./mlruns, ./mlflow.db)
    # may land in whatever folder the tests are started from.
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.delenv("MLFLOW_REGISTRY_URI", raising=False)
    yield Tracking(uri=f"sqlite:///{tmp_path}/mlflow.db", artifacts=tmp_path / "artifacts")
    assert list(cwd.iterdir()) == []


def _model(*, half_life_days: float | None = None) -> Popularity:
    store = generate_store(n_shoppers=60)
    return Popularity.fit(store.interactions, PopularityConfig(half_life_days=half_life_days))


def _register(model: Popularity, tracking: Tracking, alias: str | None = "champion") -> str:
    return registry.log_and_register(
        model=model,
        metrics={"ndcg_at_10": 0.25},
        params={"half_life_days": str(model.config.half_life_days), "k": 10},
        tracking_uri=tracking.uri,
        alias=alias,
        artifact_location=str(tracking.artifacts),
    )


def _expected(model: Popularity, excludes: list[set[str]]) -> list[list[Scored]]:
    return [
        model.recommend(history=history, k=5, exclude=exclude)
        for history, exclude in zip(HISTORIES, excludes, strict=True)
    ]


def test_registered_champion_loads_as_native_predictor_with_same_output(
    tracking: Tracking,
) -> None:
    model = _model()
    excludes = [{"1001", "1002"}, set(), {"1010"}]

    version = _register(model, tracking)
    predictor = registry.load(kind="popularity", alias="champion", tracking_uri=tracking.uri)

    assert version == "1"
    assert (
        registry.alias_version(kind="popularity", alias="champion", tracking_uri=tracking.uri)
        == "1"
    )
    assert predictor.version == "1"
    assert predictor.name == "slipstream-popularity"
    assert predictor.model == model
    assert predictor.recommend_batch(histories=HISTORIES, k=5, excludes=excludes) == _expected(
        model, excludes
    )
    assert [p.name for p in tracking.artifacts.rglob("config.json")] == ["config.json"]


def test_second_registration_moves_champion_to_the_new_version(tracking: Tracking) -> None:
    _register(_model(), tracking)
    newer = _model(half_life_days=2.0)

    version = _register(newer, tracking)
    predictor = registry.load(kind="popularity", alias="champion", tracking_uri=tracking.uri)

    assert version == "2"
    assert (
        registry.alias_version(kind="popularity", alias="champion", tracking_uri=tracking.uri)
        == "2"
    )
    assert predictor.version == "2"
    assert predictor.model == newer


def test_registration_without_alias_leaves_champion_until_set_alias_moves_it(
    tracking: Tracking,
) -> None:
    _register(_model(), tracking)
    assert _register(_model(half_life_days=1.0), tracking, alias=None) == "2"
    uri = tracking.uri

    assert registry.alias_version(kind="popularity", alias="champion", tracking_uri=uri) == "1"
    registry.set_alias(kind="popularity", alias="champion", version="2", tracking_uri=uri)
    assert registry.alias_version(kind="popularity", alias="champion", tracking_uri=uri) == "2"


def test_alias_version_is_none_for_unknown_model_or_alias(tracking: Tracking) -> None:
    uri = tracking.uri
    assert registry.alias_version(kind="popularity", alias="champion", tracking_uri=uri) is None
    _register(_model(), tracking)

    assert registry.alias_version(kind="slirec", alias="champion", tracking_uri=uri) is None
    assert registry.alias_version(kind="popularity", alias="challenger", tracking_uri=uri) is None


def test_load_of_missing_alias_raises_lookup_error(tracking: Tracking) -> None:
    with pytest.raises(LookupError, match="no model registered as slipstream-popularity@champion"):
        registry.load(kind="popularity", alias="champion", tracking_uri=tracking.uri)


def test_pyfunc_flavour_maps_history_frames_to_item_and_score_frames(
    tracking: Tracking, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = _model()
    _register(model, tracking)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", tracking.uri)
    monkeypatch.setenv("MLFLOW_REGISTRY_URI", tracking.uri)

    pyfunc_model = mlflow.pyfunc.load_model("models:/slipstream-popularity@champion")
    out = pyfunc_model.predict(
        pd.DataFrame({"items": [["1001"], []], "timestamps": [[1.0], []], "k": [2, 0]})
    )

    top_two = model.recommend(history=[], k=2)
    assert list(out.columns) == ["items", "scores"]
    assert [list(items) for items in out["items"]] == [[s.item_id for s in top_two], []]
    assert [list(scores) for scores in out["scores"]] == [[s.score for s in top_two], []]


def test_explicit_tracking_uri_does_not_leak_into_global_mlflow_state(
    tracking: Tracking, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = f"sqlite:///{tracking.artifacts.parent}/other.db"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", other)

    _register(_model(), tracking)
    registry.load(kind="popularity", alias="champion", tracking_uri=tracking.uri)

    assert os.environ["MLFLOW_TRACKING_URI"] == other
    assert "MLFLOW_REGISTRY_URI" not in os.environ
    assert mlflow.get_tracking_uri() == other


def test_model_versions_list_each_versions_aliases(tracking: Tracking) -> None:
    _register(_model(), tracking)
    _register(_model(half_life_days=1.0), tracking, alias=None)
    registry.set_alias(
        kind="popularity", alias="challenger", version="2", tracking_uri=tracking.uri
    )

    versions = registry.model_versions(kind="popularity", tracking_uri=tracking.uri)

    assert [(v.version, v.aliases) for v in versions] == [
        ("2", ["challenger"]),
        ("1", ["champion"]),
    ]
