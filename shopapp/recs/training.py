"""Each shop's models, retrained on that shop's history alone, and the choice of the kind that
serves it.

A retraining fits every kind the shop's data supports on the 30 days before its holdout day (the
last day), registers each as @challenger among the shop's models (`slipstream-s<id>-<kind>`,
decisions/0009), promotes it over its kind's @champion only when it is not worse on that day, and
then serves the kind whose champion ranks the holdout best. A learned kind (neural, or the
session neighbourhood) may serve only with NEURAL_MIN_CASES holdout cases behind it; below that
co-visitation serves (its lists topped up by trending, then popular), else popularity. The
merchant may pin a kind instead. The decision and every candidate's figures are kept
(`ModelDecision`) and shown on the Models page.

Neural kinds warm-start from their champion (its weights and vocabulary carry over; a few epochs
learn the newest day) unless the champion is older than FULL_RETRAIN_EVERY: a full retraining
then bounds how long a warm-started model can drift, or still reflect redacted customers.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import asdict, replace
from datetime import UTC, datetime, timedelta

from django.conf import settings

from recommender import registry
from recommender.data import hold_out_last
from recommender.evaluate import Case, holdout_cases
from recommender.kinds import KINDS, NEURAL
from recommender.pipeline import train_and_register
from recommender.predictor import Recommender
from recommender.types import WARM_START, TrainConfig
from recommender.types import Interaction as Seen
from shopapp.events.models import Interaction
from shopapp.events.normalise import INTENT
from shopapp.recs.decisions import Candidate, Decision
from shopapp.recs.models import ModelDecision
from shopapp.recs.training_status import training_status_set
from shopapp.shops.models import Shop, ShopSettings
from shopapp.shops.selectors import shop_changed

log = logging.getLogger(__name__)

TRAIN_DAYS = 30
HOLDOUT = timedelta(days=1)
# Newest first: a large shop trains on its recent history, and never crowds out another.
MAX_ROWS_PER_SHOP = 1_000_000
K = 10
# Every kind a shop is retrained with, simplest first (a tie goes to the simpler). ALS does not
# lead on any of our benchmarks (docs/benchmarks.md), so it is not fitted; STAN, the session
# neighbourhood, leads on the session logs.
RETRAINED: tuple[str, ...] = ("popularity", "covisit", "stan", "sasrec", "slirec")
assert set(RETRAINED) <= set(KINDS)
# Below this many holdout cases a learned kind's lead is noise (and it is not fitted at all).
NEURAL_MIN_CASES = 100
LEARNED: frozenset[str] = frozenset({*NEURAL, "stan"})
FALLBACK: tuple[str, ...] = ("covisit", "popularity")
FULL_RETRAIN_EVERY = timedelta(days=7)
# Each neural kind's share of a shop's retraining, so one shop's retraining has a bound.
NEURAL_BUDGET_S = 600.0
# Recent sales count most: a product's popularity halves every 3 days.
OVERRIDES: dict[str, dict[str, float]] = {"popularity": {"half_life_days": 3.0}}
# The library's recipe (early stopping after TrainConfig.min_steps), bounded by the budget above
# rather than by epochs: a small shop's epoch is a few steps, and 30 epochs left it untrained.
FULL_TRAINING = TrainConfig(threads=1, progress=False)
# recommender.types.WARM_START: judged once, by the champion gate below, not every epoch.
WARM_TRAINING = replace(WARM_START, threads=1, progress=False)


def kinds_supported(*, cases: int) -> list[str]:
    """The kinds a retraining fits by default: a learned kind only when it could be allowed to
    serve, with NEURAL_MIN_CASES holdout cases."""
    return [k for k in RETRAINED if k not in LEARNED or cases >= NEURAL_MIN_CASES]


def shop_history(*, shop: Shop, until: datetime) -> list[Seen]:
    """The shop's intent interactions of the training window and the holdout day, newest
    MAX_ROWS_PER_SHOP at most: the only rows any of its models is fitted on."""
    rows = (
        Interaction.objects.filter(
            shop=shop,
            ts__gte=until - HOLDOUT - timedelta(days=TRAIN_DAYS),
            ts__lt=until,
            interaction__in=INTENT,
        )
        .order_by("-ts", "-pk")  # ties in a stable order: the same rows train the same model
        .values_list("user_id", "item_id", "interaction", "ts")[:MAX_ROWS_PER_SHOP]
    )
    return [Seen(user_id=u, item_id=i, interaction=k, ts=ts.timestamp()) for u, i, k, ts in rows]


def shop_models_retrain(
    *,
    shop: str,
    kinds: Sequence[str] | None = None,
    now: datetime | None = None,
    neural_budget_s: float = NEURAL_BUDGET_S,
    progress: bool = False,
) -> Decision | None:
    """Retrain the shop's models of ``kinds`` (default: every kind its data supports), choose
    the kind that serves, and record the decision. None: the shop has no history to train on."""
    started = time.monotonic()
    shop_row = Shop.objects.get(domain=shop)
    current = now or datetime.now(UTC)
    holdout_from = current - HOLDOUT
    seen = shop_history(shop=shop_row, until=current)
    train = [s for s in seen if s.ts < holdout_from.timestamp()]
    if not train:
        return None
    cases = holdout_cases(seen, holdout_from=holdout_from.timestamp(), kinds=frozenset(INTENT))
    # Asked for by name (the operator's --kind), a kind is fitted whatever the cases.
    wanted = list(kinds) if kinds else kinds_supported(cases=len(cases))
    candidates = []
    for n, kind in enumerate(wanted):
        training_status_set(
            shop=shop, state="running", step=f"training {kind}", progress=n / len(wanted)
        )
        candidates.append(
            _candidate(
                shop_row,
                kind,
                train,
                cases,
                holdout_from=holdout_from,
                budget_s=neural_budget_s,
                progress=progress,
            )
        )
    kind, version, reason = _choose(shop_row, candidates, cases=len(cases))
    decision = Decision(
        shop=shop,
        serving_kind=kind,
        serving_version=version,
        reason=reason,
        cases=len(cases),
        candidates=candidates,
        seconds=time.monotonic() - started,
    )
    _record(shop_row, decision, at=current)
    training_status_set(
        shop=shop,
        state="finished",
        progress=1.0,
        done=[
            f"{c.kind} v{c.version} (NDCG@10 {c.ndcg_at_10:.4f}): "
            + ("promoted" if c.promoted else f"kept v{c.champion_version}")
            for c in candidates
        ]
        + [f"serving {kind or 'nothing'}: {reason}"],
    )
    log.info("retrained %s: serving %s v%s (%s)", shop, kind, version, reason)
    return decision


def _candidate(
    shop: Shop,
    kind: str,
    train: list[Seen],
    cases: Sequence[Case],
    *,
    holdout_from: datetime,
    budget_s: float,
    progress: bool,
) -> Candidate:
    started = time.monotonic()
    uri = settings.MLFLOW_TRACKING_URI
    namespace = shop.model_namespace
    # Neural kinds stop early on the newest training day's last interaction of each shopper.
    newest = (holdout_from - HOLDOUT).timestamp()
    fit_on, valid = hold_out_last(train, since=newest) if kind in NEURAL else (train, [])
    init = _warm_start(kind, namespace=namespace, uri=uri, now=holdout_from + HOLDOUT)
    config = None
    if kind in NEURAL:
        base = WARM_TRAINING if init is not None else FULL_TRAINING
        config = TrainConfig(**{**asdict(base), "max_seconds": budget_s, "progress": progress})
    registered = train_and_register(
        kind=kind,
        train=fit_on,
        valid=valid,
        cases=cases,
        timed=True,
        tracking_uri=uri,
        artifact_location=settings.MLFLOW_ARTIFACT_ROOT,
        k=K,
        # A shopper may come back to a product they viewed: the holdout keeps such targets.
        exclude_history=False,
        overrides=OVERRIDES.get(kind),
        train_config=config,
        init=init,
        since=newest if init is not None else None,
        params={"train_days": TRAIN_DAYS, "holdout": "last day", "n_train": len(fit_on)},
        promote=True,
        namespace=namespace,
    )
    gate = registered.gate
    assert gate is not None  # promote=True always gates
    champion_ndcg = gate.challenger_ndcg if gate.promoted else gate.champion_ndcg
    return Candidate(
        kind=kind,
        version=registered.version,
        ndcg_at_10=round(gate.challenger_ndcg, 4),
        hr_at_10=round(registered.metrics.hr, 4),
        champion_version=registered.version if gate.promoted else str(gate.champion_version),
        champion_ndcg_at_10=round(champion_ndcg or 0.0, 4),
        promoted=gate.promoted,
        warm_start=init is not None,
        seconds=round(time.monotonic() - started, 2),
    )


def _warm_start(kind: str, *, namespace: str, uri: str, now: datetime) -> Recommender | None:
    """The kind's champion to warm-start from: neural kinds only, when there is one and it is
    younger than FULL_RETRAIN_EVERY."""
    if kind not in NEURAL:
        return None
    registered_at = registry.alias_created_at(
        kind=kind, alias="champion", tracking_uri=uri, namespace=namespace
    )
    if (
        registered_at is None
        or now.timestamp() - registered_at > FULL_RETRAIN_EVERY.total_seconds()
    ):
        return None
    try:
        return registry.load(
            kind=kind, alias="champion", tracking_uri=uri, namespace=namespace
        ).model
    except (LookupError, registry.ModelIntegrityError):
        # Refused (and logged) by the registry: train from scratch rather than from it.
        return None


def _choose(shop: Shop, candidates: list[Candidate], *, cases: int) -> tuple[str, str, str]:
    """(kind, version, why) of what serves the shop now."""
    pinned = ShopSettings.objects.filter(shop=shop).values_list("pinned_kind", flat=True).first()
    if pinned:
        version = registry.alias_version(
            kind=pinned,
            alias="champion",
            tracking_uri=settings.MLFLOW_TRACKING_URI,
            namespace=shop.model_namespace,
        )
        if version is not None:
            return pinned, version, "pinned by the merchant"
    by_kind = {c.kind: c for c in candidates}
    if cases >= NEURAL_MIN_CASES:
        best = max(candidates, key=lambda c: (c.champion_ndcg_at_10, -RETRAINED.index(c.kind)))
        return (
            best.kind,
            best.champion_version,
            f"best NDCG@10 on the holdout day ({best.champion_ndcg_at_10:.4f} over {cases} cases)",
        )
    for kind in FALLBACK:
        if kind in by_kind:
            return (
                kind,
                by_kind[kind].champion_version,
                f"{cases} holdout cases, fewer than the {NEURAL_MIN_CASES} a learned model needs",
            )
    return "", "", "no model could be fitted"


def _record(shop: Shop, decision: Decision, *, at: datetime) -> None:
    ModelDecision.objects.create(
        shop=shop,
        decided_at=at,
        serving_kind=decision.serving_kind,
        serving_version=decision.serving_version,
        reason=decision.reason,
        cases=decision.cases,
        candidates=[asdict(c) for c in decision.candidates],
        seconds=decision.seconds,
    )
    ShopSettings.objects.update_or_create(
        shop=shop, defaults={"serving_kind": decision.serving_kind}
    )
    shop_changed(domain=shop.domain)
