import math
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import mlflow
import pandas as pd
import pytest
from mlflow.utils.file_utils import local_file_uri_to_path

from recommender import registry
from recommender.covisit import CoVisitation, CoVisitConfig
from recommender.evaluate import Case
from recommender.popularity import Popularity, PopularityConfig
from recommender.predictor import Recommender
from recommender.registry import HASH_TAG, RESIDENT_TAG
from recommender.registry.pyfunc import ENTRY_POINT
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


def _stored_model_dir(tracking: Tracking, name: str, version: str) -> Path:
    """Where the artifact store keeps the saved model of ``name`` ``version`` on disk."""
    client = mlflow.MlflowClient(tracking_uri=tracking.uri, registry_uri=tracking.uri)
    root = Path(local_file_uri_to_path(client.get_model_version_download_uri(name, version)))
    assert tracking.artifacts in root.parents
    return root / "artifacts" / "model"


def _register_in(
    namespace: str | None, model: Recommender, tracking: Tracking, alias: str | None = "champion"
) -> str:
    return registry.log_and_register(
        model=model,
        metrics={"ndcg_at_10": 0.25},
        params={},
        tracking_uri=tracking.uri,
        alias=alias,
        artifact_location=str(tracking.artifacts),
        namespace=namespace,
    )


def _scores(*items: str) -> Popularity:
    return Popularity.from_scores(
        config=PopularityConfig(),
        scores={item: float(len(items) - n) for n, item in enumerate(items)},
    )


def test_model_names_keep_each_namespace_apart_from_the_global_models() -> None:
    assert registry.model_name("sasrec") == "slipstream-sasrec"
    assert registry.model_name("sasrec", namespace="s42") == "slipstream-s42-sasrec"


@pytest.mark.parametrize("namespace", ["", "S42", "s-42", "s_42", "s%", "s 1", "a" * 33])
def test_a_namespace_other_than_1_to_32_lowercase_letters_or_digits_is_refused(
    namespace: str, tracking: Tracking
) -> None:
    with pytest.raises(ValueError, match="1-32 lower-case letters or digits"):
        registry.model_name("popularity", namespace=namespace)
    with pytest.raises(ValueError, match="1-32 lower-case letters or digits"):
        registry.alias_version(
            kind="popularity", alias="champion", namespace=namespace, tracking_uri=tracking.uri
        )
    with pytest.raises(ValueError, match="1-32 lower-case letters or digits"):
        registry.models_delete(namespace=namespace, tracking_uri=tracking.uri)


def test_each_namespace_registers_versions_aliases_and_loads_its_own_model(
    tracking: Tracking,
) -> None:
    uri = tracking.uri
    _register_in(None, _scores("g1", "g2"), tracking)
    _register_in("s1", _scores("a1", "a2"), tracking)
    _register_in("s1", _scores("a3", "a1"), tracking, alias=None)
    _register_in("s2", _scores("b1"), tracking)
    registry.set_alias(
        kind="popularity", alias="challenger", version="2", namespace="s1", tracking_uri=uri
    )

    loaded = {
        ns: registry.load(kind="popularity", alias="champion", namespace=ns, tracking_uri=uri)
        for ns in (None, "s1", "s2")
    }
    s1_versions = registry.model_versions(kind="popularity", namespace="s1", tracking_uri=uri)

    assert {ns: (p.name, p.version) for ns, p in loaded.items()} == {
        None: ("slipstream-popularity", "1"),
        "s1": ("slipstream-s1-popularity", "1"),
        "s2": ("slipstream-s2-popularity", "1"),
    }
    assert [s.item_id for s in loaded["s1"].model.recommend(history=[], k=5)] == ["a1", "a2"]
    assert [s.item_id for s in loaded["s2"].model.recommend(history=[], k=5)] == ["b1"]
    assert [(v.version, v.aliases) for v in s1_versions] == [
        ("2", ["challenger"]),
        ("1", ["champion"]),
    ]
    assert [v.version for v in registry.model_versions(kind="popularity", tracking_uri=uri)] == [
        "1"
    ]
    assert registry.alias_version(kind="popularity", alias="challenger", tracking_uri=uri) is None


def test_promotion_in_one_namespace_leaves_the_others_champion(tracking: Tracking) -> None:
    uri = tracking.uri
    _register_in("s1", _scores("a1", "a2"), tracking)
    _register_in("s2", _scores("a1", "a2"), tracking)
    version = _register_in("s1", _scores("a2", "a1"), tracking, alias="challenger")
    cases: list[Case] = [([], "a2")]

    gate = registry.promote_if_not_worse(
        kind="popularity",
        version=version,
        challenger_ndcg=1.0,
        cases=cases,
        namespace="s1",
        tracking_uri=uri,
    )

    # s1's champion ranks the target second: NDCG 1/log2(3).
    assert (gate.promoted, gate.challenger_ndcg, gate.champion_version) == (True, 1.0, "1")
    assert gate.champion_ndcg == pytest.approx(1 / math.log2(3))
    assert (
        registry.alias_version(
            kind="popularity", alias="champion", namespace="s1", tracking_uri=uri
        )
        == "2"
    )
    assert (
        registry.alias_version(
            kind="popularity", alias="champion", namespace="s2", tracking_uri=uri
        )
        == "1"
    )


def _run_and_model_dirs(tracking: Tracking, name: str) -> list[Path]:
    """The folders on disk holding the runs and logged models behind every version of ``name``."""
    client = mlflow.MlflowClient(tracking_uri=tracking.uri, registry_uri=tracking.uri)
    dirs = []
    for v in client.search_model_versions(f"name='{name}'"):
        dirs.append(Path(local_file_uri_to_path(client.get_run(str(v.run_id)).info.artifact_uri)))
        dirs.append(_stored_model_dir(tracking, name, v.version).parents[1])
    assert all(d.is_dir() and tracking.artifacts in d.parents for d in dirs)
    return dirs


def test_models_delete_removes_one_namespaces_models_runs_and_artifacts_only(
    tracking: Tracking,
) -> None:
    uri = tracking.uri
    _register_in("s1", _scores("a1"), tracking)
    _register_in("s1", _scores("a2"), tracking)
    _register_in("s1", CoVisitation.fit([], CoVisitConfig()), tracking)
    _register_in("s12", _scores("b1"), tracking)
    _register_in(None, _scores("g1"), tracking)
    doomed = [
        *_run_and_model_dirs(tracking, "slipstream-s1-popularity"),
        *_run_and_model_dirs(tracking, "slipstream-s1-covisit"),
    ]
    kept = [
        *_run_and_model_dirs(tracking, "slipstream-s12-popularity"),
        *_run_and_model_dirs(tracking, "slipstream-popularity"),
    ]
    client = mlflow.MlflowClient(tracking_uri=uri, registry_uri=uri)
    doomed_runs = [
        str(v.run_id)
        for name in ("slipstream-s1-popularity", "slipstream-s1-covisit")
        for v in client.search_model_versions(f"name='{name}'")
    ]

    assert registry.models_delete(namespace="s1", tracking_uri=uri) == 2

    assert len(doomed) == 6
    # Each run's and logged model's folder goes too, not only the artifacts inside it.
    assert [d for d in doomed if d.parent.exists()] == []
    assert [d for d in kept if not d.is_dir()] == []
    assert [client.get_run(r).info.lifecycle_stage for r in doomed_runs] == ["deleted"] * 3
    assert sorted(m.name for m in client.search_registered_models()) == [
        "slipstream-popularity",
        "slipstream-s12-popularity",
    ]
    for kind in ("popularity", "covisit"):
        assert (
            registry.alias_version(kind=kind, alias="champion", namespace="s1", tracking_uri=uri)
            is None
        )
    survivor = registry.load(kind="popularity", alias="champion", namespace="s12", tracking_uri=uri)
    assert [s.item_id for s in survivor.model.recommend(history=[], k=3)] == ["b1"]
    assert registry.load(kind="popularity", alias="champion", tracking_uri=uri).version == "1"
    assert registry.models_delete(namespace="s1", tracking_uri=uri) == 0


def test_load_refuses_a_model_whose_stored_files_changed_and_logs_it(
    tracking: Tracking, caplog: pytest.LogCaptureFixture
) -> None:
    _register(_model(), tracking)
    scores = _stored_model_dir(tracking, "slipstream-popularity", "1") / "scores.json"
    # Still valid JSON, so only the hash can tell.
    scores.write_text(scores.read_text() + " ")

    with pytest.raises(registry.ModelIntegrityError, match="slipstream-popularity version 1"):
        registry.load(kind="popularity", alias="champion", tracking_uri=tracking.uri)

    assert [(r.levelname, r.name) for r in caplog.records if "version 1" in r.getMessage()] == [
        ("ERROR", "recommender.registry.loading")
    ]


def test_load_refuses_a_model_with_an_added_file(tracking: Tracking) -> None:
    _register(_model(), tracking)
    stored = _stored_model_dir(tracking, "slipstream-popularity", "1")
    (stored / "extra.json").write_text("{}")

    with pytest.raises(registry.ModelIntegrityError, match="its files were changed"):
        registry.load(kind="popularity", alias="champion", tracking_uri=tracking.uri)


def test_load_refuses_a_version_registered_without_a_content_hash(tracking: Tracking) -> None:
    _register(_model(), tracking)
    client = mlflow.MlflowClient(tracking_uri=tracking.uri, registry_uri=tracking.uri)
    tags = client.get_model_version("slipstream-popularity", "1").tags
    assert set(tags) == {HASH_TAG, RESIDENT_TAG}
    client.delete_model_version_tag("slipstream-popularity", "1", HASH_TAG)

    with pytest.raises(registry.ModelIntegrityError, match=r"version 1 has no slipstream\.sha256"):
        registry.load(kind="popularity", alias="champion", tracking_uri=tracking.uri)


def test_loading_never_runs_the_entry_point_stored_with_the_model(
    tracking: Tracking, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = _model()
    _register(model, tracking)
    marker = tracking.artifacts.parent / "entry-point-ran"
    entry_point = (
        _stored_model_dir(tracking, "slipstream-popularity", "1").parents[1]
        / "slipstream_pyfunc.py"
    )
    assert entry_point.read_text() == ENTRY_POINT
    entry_point.write_text(
        f"from pathlib import Path\nPath({str(marker)!r}).write_text('ran')\n" + ENTRY_POINT
    )

    predictor = registry.load(kind="popularity", alias="champion", tracking_uri=tracking.uri)

    assert predictor.model == model
    assert not marker.exists()
    # MLflow's own loader does run it: the marker above would have shown it.
    monkeypatch.setenv("MLFLOW_TRACKING_URI", tracking.uri)
    mlflow.pyfunc.load_model("models:/slipstream-popularity/1")
    assert marker.read_text() == "ran"


def test_a_champion_that_fails_its_hash_check_is_replaced_by_the_challenger(
    tracking: Tracking,
) -> None:
    uri = tracking.uri
    _register(_model(), tracking)
    scores = _stored_model_dir(tracking, "slipstream-popularity", "1") / "scores.json"
    # Still valid JSON, so only the hash can tell.
    scores.write_text(scores.read_text() + " ")
    version = _register(_model(half_life_days=1.0), tracking, alias=None)

    gate = registry.promote_if_not_worse(
        kind="popularity", version=version, challenger_ndcg=0.0, cases=[], tracking_uri=uri
    )

    assert gate == registry.Gate(
        promoted=True, challenger_ndcg=0.0, champion_ndcg=None, champion_version=None
    )
    assert registry.alias_version(kind="popularity", alias="champion", tracking_uri=uri) == "2"
