"""Scheduled retraining: a challenger is registered, and promoted only when not worse."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from recommender import registry
from recommender.popularity import Popularity, PopularityConfig
from shopapp.events.models import Interaction
from shopapp.recs.training import model_retrain
from shopapp.shops.models import Shop

NOW = datetime(2026, 11, 24, 12, tzinfo=UTC)


@pytest.fixture
def mlflow_uri(settings, tmp_path) -> str:
    settings.MLFLOW_TRACKING_URI = f"sqlite:///{tmp_path / 'mlflow.db'}"
    settings.MLFLOW_ARTIFACT_ROOT = str(tmp_path / "artifacts")
    return settings.MLFLOW_TRACKING_URI


def _history(shop: str) -> None:
    """Shoe 1 is the best seller before the holdout day, and every holdout target is shoe 1."""
    s = Shop.objects.get(domain=shop)
    rows = []
    for n in range(20):
        at = NOW - timedelta(days=3, minutes=n)
        rows += [("1", at), ("2" if n % 2 else "3", at - timedelta(seconds=30))]
        rows.append(("1", NOW - timedelta(hours=2, minutes=n)))  # the holdout day
    Interaction.objects.bulk_create(
        [
            Interaction(
                shop=s,
                user_id=f"u{n % 20}",
                item_id=item,
                interaction="view",
                ts=at,
                event_id=f"e{n}",
            )
            for n, (item, at) in enumerate(rows)
        ]
    )


def test_the_first_retrain_becomes_champion(shop: str, mlflow_uri: str) -> None:
    _history(shop)
    result = model_retrain(kind="popularity", now=NOW)
    assert result is not None
    assert result.promoted
    assert result.champion_ndcg is None
    assert result.cases == 20
    assert result.challenger_ndcg == 1.0
    assert (
        registry.alias_version(kind="popularity", alias="champion", tracking_uri=mlflow_uri)
        == result.version
    )


def test_a_worse_challenger_is_not_promoted(shop: str, mlflow_uri: str, settings) -> None:
    _history(shop)
    # A champion that ranks shoe 1 first and knows nothing else: perfect on this holdout.
    registry.log_and_register(
        model=Popularity.from_scores(config=PopularityConfig(), scores={"1": 1.0}),
        metrics={},
        params={},
        tracking_uri=mlflow_uri,
        artifact_location=settings.MLFLOW_ARTIFACT_ROOT,  # never ./mlruns
    )
    Interaction.objects.filter(
        item_id="1", ts__lt=NOW - timedelta(days=1)
    ).delete()  # now 2, 3 lead

    result = model_retrain(kind="popularity", now=NOW)

    assert result is not None
    assert not result.promoted
    assert result.challenger_ndcg < result.champion_ndcg == 1.0  # type: ignore[operator]
    assert (
        registry.alias_version(kind="popularity", alias="champion", tracking_uri=mlflow_uri) == "1"
    )
    assert (
        registry.alias_version(kind="popularity", alias="challenger", tracking_uri=mlflow_uri)
        == result.version
    )


def test_no_history_no_model(shop: str, mlflow_uri: str) -> None:
    assert model_retrain(kind="covisit", now=NOW) is None


def test_sasrec_trains_once_then_warm_starts_from_its_champion(shop: str, mlflow_uri: str) -> None:
    from mlflow import MlflowClient

    _history(shop)
    first = model_retrain(kind="sasrec", now=NOW)
    assert first is not None
    assert first.promoted
    assert first.cases == 20
    # A day later the champion is updated with the day that is new, not retrained from zero.
    second = model_retrain(kind="sasrec", now=NOW + timedelta(days=1))
    assert second is not None

    versions = registry.model_versions(kind="sasrec", tracking_uri=mlflow_uri)
    assert [v.params["warm_start"] for v in versions] == ["True", "False"]
    assert versions[0].params["train.max_epochs"] == "4"
    client = MlflowClient(tracking_uri=mlflow_uri)
    run_id = client.get_model_version("slipstream-sasrec", first.version).run_id
    assert run_id is not None
    history = client.get_metric_history(run_id, "valid_ndcg")
    assert [m.step for m in history] == list(range(1, len(history) + 1))
    assert history
    artifacts = {a.path for a in client.list_artifacts(run_id)}
    assert {"training_curves.png", "metrics.json"} <= artifacts
    served = registry.load(kind="sasrec", alias="champion", tracking_uri=mlflow_uri)
    assert served.model.recommend(history=[("2", 1.0)], k=2)
