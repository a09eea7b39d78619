"""A worker's loaded models: one entry per (namespace, kind, alias), reloaded when the alias moves,
bounded by their size loaded with the least recently used evicted, and a version whose files fail
their hash check refused while the one loaded before keeps serving."""

from __future__ import annotations

import shutil
from pathlib import Path

import mlflow
import pytest
from mlflow.utils.file_utils import local_file_uri_to_path

from recommender import registry
from recommender.popularity import Popularity, PopularityConfig
from recommender.predictor import load_model
from recommender.sizing import resident_bytes
from shopapp.recs import predictors
from shopapp.recs.predictors import CachedPredictor, predictor_get, predictors_cached


@pytest.fixture
def store(settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A registry of its own, and the empty cache of a fresh worker process."""
    settings.MLFLOW_TRACKING_URI = f"sqlite:///{tmp_path / 'mlflow.db'}"
    settings.PREDICTOR_CACHE_MB = 512
    monkeypatch.setattr(predictors, "_cache", predictors._LRU())
    # Every call checks the alias again unless a test says otherwise.
    monkeypatch.setattr(predictors, "ALIAS_CHECK_S", 0.0)
    return tmp_path / "artifacts"


def _register(settings, artifacts: Path, namespace: str | None, *items: str) -> str:
    return registry.log_and_register(
        model=Popularity.from_scores(
            config=PopularityConfig(), scores={item: float(100 - n) for n, item in enumerate(items)}
        ),
        metrics={},
        params={},
        tracking_uri=settings.MLFLOW_TRACKING_URI,
        artifact_location=str(artifacts),
        namespace=namespace,
    )


def _items(namespace: str, n: int = 50) -> list[str]:
    # The same length for every namespace, so each shop's saved model has the same size.
    return [f"{namespace}-{i:04d}" for i in range(n)]


def _top(namespace: str | None) -> list[str]:
    predictor = predictor_get(namespace=namespace, kind="popularity", alias="champion")
    assert predictor is not None
    return [s.item_id for s in predictor.model.recommend(history=[], k=2)]


def _cached() -> list[tuple[str | None, str | None]]:
    return [(c.namespace, c.version) for c in predictors_cached()]


def _stored_model_dir(settings, name: str, version: str) -> Path:
    client = mlflow.MlflowClient(settings.MLFLOW_TRACKING_URI, settings.MLFLOW_TRACKING_URI)
    root = Path(local_file_uri_to_path(client.get_model_version_download_uri(name, version)))
    return root / "artifacts" / "model"


def _tamper(settings, name: str, version: str) -> None:
    scores = _stored_model_dir(settings, name, version) / "scores.json"
    # Still valid JSON, so only the hash can tell.
    scores.write_text(scores.read_text() + " ")


def test_past_the_bound_the_least_recently_used_models_are_evicted(
    settings, store: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(predictors, "ALIAS_CHECK_S", 3600.0)
    for namespace in ("s1", "s2", "s3"):
        _register(settings, store, namespace, *_items(namespace))
    assert _top("s1") == ["s1-0000", "s1-0001"]
    [first] = predictors_cached()
    size = first.nbytes
    settings.PREDICTOR_CACHE_MB = 2.5 * size / 2**20  # room for two

    _top("s2")
    _top("s1")  # s1 is now the most recently used
    _top("s3")

    # Weighed by the model's size loaded, as the registry measured it: more than its files.
    stored = _stored_model_dir(settings, "slipstream-s1-popularity", "1")
    assert size == resident_bytes(load_model(stored))
    assert size > sum(f.stat().st_size for f in stored.rglob("*") if f.is_file())
    assert predictors_cached() == [
        CachedPredictor(
            namespace="s1", kind="popularity", alias="champion", version="1", nbytes=size
        ),
        CachedPredictor(
            namespace="s3", kind="popularity", alias="champion", version="1", nbytes=size
        ),
    ]

    settings.PREDICTOR_CACHE_MB = 0.5 * size / 2**20  # not even room for one

    assert _top("s2") == ["s2-0000", "s2-0001"]
    assert _cached() == [("s2", "1")]


def test_a_moved_alias_reloads_at_the_next_check_only(
    settings, store: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _register(settings, store, "s1", "a", "b")
    first = predictor_get(namespace="s1", kind="popularity", alias="champion")
    monkeypatch.setattr(predictors, "ALIAS_CHECK_S", 3600.0)
    _register(settings, store, "s1", "c", "a")

    assert predictor_get(namespace="s1", kind="popularity", alias="champion") is first

    monkeypatch.setattr(predictors, "ALIAS_CHECK_S", 0.0)
    second = predictor_get(namespace="s1", kind="popularity", alias="champion")

    assert first is not None
    assert second is not None
    assert (first.version, second.version) == ("1", "2")
    assert _top("s1") == ["c", "a"]
    # The alias did not move again: the same loaded model, not a second load.
    assert predictor_get(namespace="s1", kind="popularity", alias="champion") is second
    assert _cached() == [("s1", "2")]


def test_a_tampered_new_version_is_refused_and_the_old_one_keeps_serving(
    settings, store: Path, caplog: pytest.LogCaptureFixture
) -> None:
    _register(settings, store, "s1", "a", "b")
    old = predictor_get(namespace="s1", kind="popularity", alias="champion")
    _register(settings, store, "s1", "c", "d")
    _tamper(settings, "slipstream-s1-popularity", "2")

    served = predictor_get(namespace="s1", kind="popularity", alias="champion")
    again = predictor_get(namespace="s1", kind="popularity", alias="champion")

    assert old is not None
    assert served is old
    assert again is old
    assert _top("s1") == ["a", "b"]
    # Refused once, logged once: the refused version is not fetched again at every check.
    # Only our loggers: another thread (a live server) may log into caplog too.
    ours = [
        r for r in caplog.records if r.name.startswith(("recommender.registry", "shopapp.recs"))
    ]
    assert [(r.name, r.levelname, r.getMessage().split(":")[0]) for r in ours] == [
        ("recommender.registry.loading", "ERROR", "refused to load a model"),
        (
            "shopapp.recs.predictors",
            "WARNING",
            "still serving slipstream-s1-popularity version 1 instead of 2",
        ),
    ]
    assert "slipstream-s1-popularity version 2" in ours[0].getMessage()

    _register(settings, store, "s1", "e", "f")

    assert _top("s1") == ["e", "f"]


def test_a_first_load_that_fails_serves_nothing_yet(
    settings, store: Path, caplog: pytest.LogCaptureFixture
) -> None:
    _register(settings, store, "s1", "a", "b")
    _tamper(settings, "slipstream-s1-popularity", "1")

    assert predictor_get(namespace="s1", kind="popularity", alias="champion") is None
    assert _cached() == [("s1", None)]
    assert "still serving no model instead of 1" in caplog.text


def test_an_unreadable_new_version_leaves_the_old_one_serving(
    settings, store: Path, caplog: pytest.LogCaptureFixture
) -> None:
    _register(settings, store, "s1", "a", "b")
    old = predictor_get(namespace="s1", kind="popularity", alias="champion")
    _register(settings, store, "s1", "c", "d")
    shutil.rmtree(_stored_model_dir(settings, "slipstream-s1-popularity", "2"))

    assert predictor_get(namespace="s1", kind="popularity", alias="champion") is old
    assert "could not refresh popularity@champion of namespace s1; still serving" in caplog.text


def test_the_global_models_and_a_shops_models_are_cached_apart(settings, store: Path) -> None:
    _register(settings, store, None, "g1", "g2")
    _register(settings, store, "s1", "a1", "a2")

    glob = predictor_get(kind="popularity", alias="champion")
    shop = predictor_get(namespace="s1", kind="popularity", alias="champion")

    assert glob is not None
    assert shop is not None
    assert (glob.name, shop.name) == ("slipstream-popularity", "slipstream-s1-popularity")
    assert (_top(None), _top("s1")) == (["g1", "g2"], ["a1", "a2"])
    assert _cached() == [(None, "1"), ("s1", "1")]
