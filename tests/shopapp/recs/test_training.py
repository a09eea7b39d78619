"""Per-shop retraining: each shop's models are fitted on its own rows only, registered among its
own names, promoted only when not worse, and the kind that serves is chosen with its evidence."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from recommender import pipeline, registry
from recommender.popularity import Popularity, PopularityConfig
from shopapp.events.models import Interaction
from shopapp.recs import scheduling, training
from shopapp.recs.champions import champion_set, serving_kind_pin, serving_model_get
from shopapp.recs.models import ModelDecision
from shopapp.recs.training import (
    NEURAL_MIN_CASES,
    RETRAINED,
    kinds_supported,
    shop_models_retrain,
)
from shopapp.shops.models import Shop, ShopSettings
from shopapp.shops.services import shop_install

NOW = datetime(2026, 11, 24, 12, tzinfo=UTC)


@pytest.fixture
def mlflow_uri(settings, tmp_path) -> str:
    settings.MLFLOW_TRACKING_URI = f"sqlite:///{tmp_path / 'mlflow.db'}"
    settings.MLFLOW_ARTIFACT_ROOT = str(tmp_path / "artifacts")
    return settings.MLFLOW_TRACKING_URI


def _rows(shop: str, rows: list[tuple[str, str, datetime]]) -> None:
    s = Shop.objects.get(domain=shop)
    Interaction.objects.bulk_create(
        [
            Interaction(
                shop=s, user_id=user, item_id=item, interaction="view", ts=at, event_id=f"e{n}"
            )
            for n, (user, item, at) in enumerate(rows)
        ]
    )


def _history(shop: str, items: tuple[str, str, str] = ("1", "2", "3")) -> None:
    """Shoe 1 is the best seller before the holdout day, and every holdout target is shoe 1."""
    best, other, third = items
    rows = []
    for n in range(20):
        at = NOW - timedelta(days=3, minutes=n)
        rows += [
            (f"c:{n + 1}", best, at),
            (f"c:{n + 1}", other if n % 2 else third, at - timedelta(seconds=30)),
        ]
        rows.append((f"c:{n + 1}", best, NOW - timedelta(hours=2, minutes=n)))  # the holdout day
    _rows(shop, rows)


def _namespace(shop: str) -> str:
    return Shop.objects.get(domain=shop).model_namespace


def test_the_first_retrain_registers_the_shops_own_champions_and_records_why(
    shop: str, mlflow_uri: str
) -> None:
    _history(shop)
    decision = shop_models_retrain(shop=shop, now=NOW)

    assert decision is not None
    assert decision.cases == 20
    # Too few cases for a learned model: none is fitted, co-visitation serves.
    assert [c.kind for c in decision.candidates] == ["popularity", "covisit"]
    assert all(c.promoted for c in decision.candidates)
    popularity = decision.candidates[0]
    assert popularity.ndcg_at_10 == 1.0
    assert (decision.serving_kind, decision.serving_version) == ("covisit", "1")
    assert f"fewer than the {NEURAL_MIN_CASES}" in decision.reason
    ns = _namespace(shop)
    assert (
        registry.alias_version(
            kind="popularity", alias="champion", tracking_uri=mlflow_uri, namespace=ns
        )
        == popularity.version
    )
    # Nothing global: the shop's models are its own.
    assert (
        registry.alias_version(kind="popularity", alias="champion", tracking_uri=mlflow_uri) is None
    )
    stored = ModelDecision.objects.get(shop__domain=shop)
    assert stored.serving_kind == "covisit"
    assert [c["kind"] for c in stored.candidates] == ["popularity", "covisit"]
    assert ShopSettings.objects.get(shop__domain=shop).serving_kind == "covisit"


def test_learned_kinds_are_fitted_only_with_the_cases_to_judge_them() -> None:
    assert kinds_supported(cases=NEURAL_MIN_CASES - 1) == ["popularity", "covisit"]
    assert kinds_supported(cases=NEURAL_MIN_CASES) == list(RETRAINED)
    assert {"stan", "sasrec", "slirec"} <= set(RETRAINED)


def test_a_worse_challenger_is_not_promoted(shop: str, mlflow_uri: str, settings) -> None:
    _history(shop)
    # A champion that ranks shoe 1 first and knows nothing else: perfect on this holdout.
    registry.log_and_register(
        model=Popularity.from_scores(config=PopularityConfig(), scores={"1": 1.0}),
        metrics={},
        params={},
        tracking_uri=mlflow_uri,
        artifact_location=settings.MLFLOW_ARTIFACT_ROOT,  # never ./mlruns
        namespace=_namespace(shop),
    )
    Interaction.objects.filter(item_id="1", ts__lt=NOW - timedelta(days=1)).delete()  # 2, 3 lead

    decision = shop_models_retrain(shop=shop, kinds=["popularity"], now=NOW)

    assert decision is not None
    [candidate] = decision.candidates
    assert not candidate.promoted
    assert candidate.ndcg_at_10 < candidate.champion_ndcg_at_10 == 1.0
    assert (candidate.version, candidate.champion_version) == ("2", "1")
    ns = _namespace(shop)
    assert (
        registry.alias_version(
            kind="popularity", alias="champion", tracking_uri=mlflow_uri, namespace=ns
        )
        == "1"
    )
    assert (
        registry.alias_version(
            kind="popularity", alias="challenger", tracking_uri=mlflow_uri, namespace=ns
        )
        == "2"
    )


def test_no_history_no_model(shop: str, mlflow_uri: str) -> None:
    assert shop_models_retrain(shop=shop, now=NOW) is None
    assert not ModelDecision.objects.exists()


def test_two_shops_train_on_their_own_rows_only_and_pinning_one_leaves_the_other(
    shop: str, mlflow_uri: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = "other-shop.myshopify.com"
    shop_install(domain=other)
    _history(shop, items=("1", "2", "3"))
    _history(other, items=("7", "8", "9"))
    fed: dict[str, set[str]] = {}
    real = pipeline.train_and_register

    def spy(**kwargs):
        fed.setdefault(kwargs["namespace"], set()).update(i.item_id for i in kwargs["train"])
        fed[kwargs["namespace"]].update(c[1] for c in kwargs["cases"])
        return real(**kwargs)

    monkeypatch.setattr(training, "train_and_register", spy)
    for domain in (shop, other):
        shop_models_retrain(shop=domain, now=NOW)

    a, b = _namespace(shop), _namespace(other)
    assert fed == {a: {"1", "2", "3"}, b: {"7", "8", "9"}}
    for ns, items in ((a, {"1", "2", "3"}), (b, {"7", "8", "9"})):
        for kind in ("popularity", "covisit"):
            model = registry.load(
                kind=kind, alias="champion", tracking_uri=mlflow_uri, namespace=ns
            )
            listed = {s.item_id for s in model.model.recommend(history=[], k=10)}
            listed |= {
                s.item_id
                for item in items
                for s in model.model.recommend(history=[(item, NOW.timestamp())], k=10)
            }
            assert listed <= items

    before = serving_model_get(shop=other)
    serving_kind_pin(shop=shop, kind="popularity")
    champion_set(shop=shop, kind="covisit", version="1")
    assert serving_model_get(shop=shop).kind == "popularity"  # type: ignore[union-attr]
    assert serving_model_get(shop=other) == before
    assert before is not None
    assert before.kind == "covisit"


def test_with_enough_shoppers_a_learned_model_serves_without_any_setting(
    shop: str, mlflow_uri: str
) -> None:
    """Every shopper who views product x comes back two hours later for f(x). Co-visitation pairs
    only products viewed within the hour, so it cannot know f(x); a model of what follows can."""
    catalogue = 20

    def after(x: int) -> int:
        return (3 * x + 1) % catalogue

    def visit(user: str, x: int, at: datetime) -> list[tuple[str, str, datetime]]:
        return [(user, str(x), at), (user, str(after(x)), at + timedelta(hours=2))]

    rows = []
    for n in range(1500):  # the history, over the last week
        rows += visit(f"c:{n + 1}", n % catalogue, NOW - timedelta(days=2 + n % 6, minutes=n % 600))
    shoppers = NEURAL_MIN_CASES + 20
    for n in range(shoppers):  # the holdout day
        rows += visit(f"c:{5000 + n}", n % catalogue, NOW - timedelta(hours=5, minutes=n))
    _rows(shop, rows)

    # The default budget (minutes) is never reached here: training stops on its own, so the
    # result does not depend on how busy the machine is.
    decision = shop_models_retrain(shop=shop, kinds=["popularity", "covisit", "sasrec"], now=NOW)

    assert decision is not None
    assert decision.cases == shoppers
    figures = {c.kind: c.champion_ndcg_at_10 for c in decision.candidates}
    assert decision.serving_kind == "sasrec", figures
    assert figures["sasrec"] > figures["covisit"]
    assert decision.reason.startswith("best NDCG@10")
    assert ShopSettings.objects.get(shop__domain=shop).serving_kind == "sasrec"


def test_sasrec_warm_starts_from_its_champion_until_a_full_retraining_is_due(
    shop: str, mlflow_uri: str
) -> None:
    _history(shop)
    first = shop_models_retrain(shop=shop, kinds=["sasrec"], now=NOW)
    assert first is not None
    assert not first.candidates[0].warm_start
    second = shop_models_retrain(shop=shop, kinds=["sasrec"], now=NOW + timedelta(days=1))
    assert second is not None
    assert second.candidates[0].warm_start
    ns = _namespace(shop)
    versions = registry.model_versions(kind="sasrec", tracking_uri=mlflow_uri, namespace=ns)
    assert [v.params["warm_start"] for v in versions] == ["True", "False"]
    assert versions[0].params["train.max_epochs"] == "4"
    # Judged once by the champion gate, not validated every epoch; the full training selects.
    assert [v.params["train.valid_cases"] for v in versions] == ["0", "5000"]
    served = registry.load(kind="sasrec", alias="champion", tracking_uri=mlflow_uri, namespace=ns)
    assert served.model.recommend(history=[("2", 1.0)], k=2)


def test_shops_due_come_newest_without_models_first_then_the_stalest(
    shop: str, mlflow_uri: str
) -> None:
    stale, fresh, idle = "stale.myshopify.com", "fresh.myshopify.com", "idle.myshopify.com"
    quiet = "quiet.myshopify.com"
    for domain in (stale, fresh, idle, quiet):
        shop_install(domain=domain)
    _history(shop)
    _history(stale, items=("4", "5", "6"))
    _history(fresh, items=("7", "8", "9"))
    _rows(quiet, [("c:1", "1", NOW - timedelta(days=9))])
    for domain, at in (
        (stale, NOW - timedelta(days=3)),
        (fresh, NOW - timedelta(hours=1)),
        (quiet, NOW - timedelta(days=8)),
    ):
        ModelDecision.objects.create(
            shop=Shop.objects.get(domain=domain),
            decided_at=at,
            reason="test",
            cases=0,
            seconds=0.0,
        )
    # `idle` has no history: nothing to train; `fresh` was retrained within the day; `quiet` is
    # stale but has nothing new since its retraining.
    assert scheduling.shops_due_for_retraining(now=NOW) == [shop, stale]


def test_a_shops_retraining_is_claimed_once_until_released(shop: str) -> None:
    assert scheduling.retrain_claim(shop=shop)
    assert not scheduling.retrain_claim(shop=shop)
    assert scheduling.retrain_claim(shop="another.myshopify.com")
    scheduling.retrain_release(shop=shop)
    assert scheduling.retrain_claim(shop=shop)
