"""Many shops, each with its own models: `python -m bench.shops` (docs/benchmarks.md).

BENCH_SHOPS synthetic shops (default 200), catalogues of 500-25,000 products (log-normal), with
PER_PRODUCT intent events per product over 30 days and a holdout day (sessions walking a skewed
catalogue), installed as real shops in a scratch SQLite database and MLflow sqlite store. A shop
and its data depend only on its index: a 40-shop run has the first 40 shops of a 200-shop one.

Every shop is retrained as the beat task does (recs/training.py:shop_models_retrain), one after
the other, with each neural kind's budget cut to BENCH_NEURAL_BUDGET_S (default 5 s, not 600 s)
so the run is bounded. Cost against data: a line through the per-shop times, and seconds per
1,000 interactions over the first half of the shops and over all (a cost growing with the shops
already trained, such as a registry query over every model, would make the second the larger).

Serving, in a fresh (worker's) process: every shop's serving model through the worker LRU
(recs/predictors.py:predictor_get) bounded at BENCH_CACHE_MB (default 64), one shopper's top-10
timed cold (the shop's first request, registry lookup and load included) and warm. Baseline, in
another fresh process: the same with every shop's popularity model, the cheapest a shop serves.

Writes bench/results/shops.json.
"""

from __future__ import annotations

import json
import os
import random
import resource
import statistics
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import django
import numpy as np

from bench.common import bench_env, scratch_var

SHOPS = int(os.environ.get("BENCH_SHOPS", "200"))
SMALLEST, LARGEST, MEDIAN = 500, 25_000, 2_500
SIGMA = 1.0  # of log(catalogue size)
PER_PRODUCT = 3
NEURAL_BUDGET_S = float(os.environ.get("BENCH_NEURAL_BUDGET_S", "5"))
CACHE_MB = int(os.environ.get("BENCH_CACHE_MB", "64"))
WARM_REPEATS = 5
K = 10
NOW = datetime(2026, 2, 1, tzinfo=UTC)
SPAN_S = 31 * 86_400  # the 30 training days and the holdout day
RESULTS = Path(__file__).parent / "results"


def domain(index: int) -> str:
    return f"bench-{index:03d}.myshopify.com"


def catalogue_size(index: int) -> int:
    rng = random.Random(f"size-{index}")
    drawn = rng.lognormvariate(np.log(MEDIAN), SIGMA)
    return int(min(LARGEST, max(SMALLEST, drawn)))


def _sessions(index: int, products: int) -> Iterator[tuple[str, str, str, float]]:
    """(shopper, product, kind, ts): PER_PRODUCT events per product, low product ids the most
    visited, each session a walk through neighbouring products a few minutes apart."""
    rng = random.Random(f"history-{index}")
    start, end, made, shopper = NOW.timestamp() - SPAN_S, NOW.timestamp(), 0, 0
    while made < PER_PRODUCT * products:
        shopper += 1
        ts = start + rng.random() * SPAN_S
        item = int(products * rng.random() ** 2)
        for _ in range(rng.randint(2, 8)):
            if ts >= end:
                break
            roll = rng.random()
            kind = "purchase" if roll < 0.05 else "cart" if roll < 0.15 else "view"
            yield f"v:{index}-{shopper}", str(item + 1), kind, ts
            made += 1
            item = (item + rng.randint(-10, 10)) % products
            ts += rng.uniform(10, 300)


def shop_create(index: int) -> dict[str, Any]:
    """Install shop ``index`` with its catalogue and history; its row of the results."""
    from shopapp.events.models import Interaction
    from shopapp.recs.services import products_upsert
    from shopapp.shops.services import shop_install

    shop, products = shop_install(domain=domain(index)), catalogue_size(index)
    products_upsert(
        shop=shop.domain,
        products=(
            {"product_id": str(n), "handle": f"p{n}", "title": f"Product {n}", "price": 10}
            for n in range(1, products + 1)
        ),
    )
    rows = [
        Interaction(
            shop=shop,
            user_id=user,
            item_id=item,
            interaction=kind,
            ts=datetime.fromtimestamp(ts, UTC),
            event_id=f"e{n}",
        )
        for n, (user, item, kind, ts) in enumerate(_sessions(index, products))
    ]
    Interaction.objects.bulk_create(rows, batch_size=5_000)
    return {
        "domain": shop.domain,
        "namespace": shop.model_namespace,
        "products": products,
        "interactions": len(rows),
    }


def shop_train(row: dict[str, Any]) -> None:
    from recommender.kinds import NEURAL
    from shopapp.recs.training import shop_models_retrain

    started = time.perf_counter()
    decision = shop_models_retrain(shop=row["domain"], now=NOW, neural_budget_s=NEURAL_BUDGET_S)
    assert decision is not None, f"{row['domain']} has no history"
    row["train_s"] = time.perf_counter() - started
    row["serving_kind"], row["cases"] = decision.serving_kind, decision.cases
    row["kinds_s"] = {c.kind: c.seconds for c in decision.candidates}
    row["neural_kinds"] = sum(c.kind in NEURAL for c in decision.candidates)
    row["neural_s"] = sum(c.seconds for c in decision.candidates if c.kind in NEURAL)


def _rss_mb(field: str = "VmRSS") -> float:
    """This process's resident set (VmHWM: its peak since it started, which ru_maxrss is not in
    a spawned process: Linux carries the parent's peak across the exec)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no {field} in /proc/self/status")


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def _quantiles(ms: Sequence[float]) -> dict[str, float]:
    ordered = sorted(ms)
    return {
        "p50_ms": round(statistics.median(ordered), 3),
        "p99_ms": round(ordered[int(0.99 * (len(ordered) - 1))], 3),
        "max_ms": round(ordered[-1], 3),
    }


def serve(shops: list[tuple[str, str, int]], *, only: str | None) -> dict[str, Any]:
    """In a fresh worker process: every shop's serving model (or its ``only`` kind) through the
    bounded LRU, one shopper's top-K cold (the shop's first request) and warm."""
    import torch

    django.setup()
    torch.set_num_threads(1)
    # Imported before the first figure, so that the RSS growth is the models' and not the code's.
    import recommender.covisit
    import recommender.popularity
    import recommender.sasrec
    import recommender.slirec  # noqa: F401
    from shopapp.recs.predictors import predictor_get, predictors_cached

    cold: list[float] = []
    warm: list[float] = []
    rss_before, loaded_mb = _rss_mb(), 0.0
    for index, (namespace, kind, products) in enumerate(shops):
        rng = random.Random(f"shopper-{index}")
        item = rng.randrange(products)
        history = [
            (str((item + 3 * n) % products + 1), NOW.timestamp() + 30 * n) for n in range(10)
        ]
        excludes = [{i for i, _ in history}]
        for repeat in range(1 + WARM_REPEATS):
            started = time.perf_counter()
            predictor = predictor_get(namespace=namespace, kind=only or kind, alias="champion")
            assert predictor is not None, f"nothing serves {namespace}"
            [top] = predictor.recommend_batch(histories=[history], k=K, excludes=excludes)
            (warm if repeat else cold).append((time.perf_counter() - started) * 1000)
            assert top, f"an empty list for {namespace}"
        loaded_mb += next(c.nbytes for c in predictors_cached() if c.namespace == namespace) / 2**20
    cached = predictors_cached()
    return {
        "cache_bound_mb": CACHE_MB,
        "models_loaded": len(shops),
        "models_loaded_mb": round(loaded_mb, 1),
        "models_cached": len(cached),
        "models_cached_mb": round(sum(c.nbytes for c in cached) / 2**20, 1),
        "cached_kinds": {k: sum(c.kind == k for c in cached) for k in {c.kind for c in cached}},
        "rss_before_mb": round(rss_before, 1),
        "rss_after_mb": round(_rss_mb(), 1),
        "peak_rss_mb": round(_rss_mb("VmHWM"), 1),
        "cold": _quantiles(cold),
        "warm": _quantiles(warm),
    }


def _fit(columns: Sequence[Sequence[float]], y: Sequence[float]) -> dict[str, float]:
    """Least squares y ~ intercept + per_1k * interactions / 1000 (+ per_neural_kind * kinds):
    the coefficients and R^2."""
    a = np.column_stack([np.ones(len(y)), *[np.asarray(c, dtype=float) for c in columns]])
    target = np.asarray(y, dtype=float)
    coef, *_ = np.linalg.lstsq(a, target, rcond=None)
    residual = target - a @ coef
    r2 = 1 - float(residual @ residual) / float(((target - target.mean()) ** 2).sum())
    names = ("intercept", "per_1k", "per_neural_kind")[: len(coef)]
    scaled = [float(c) * (1000 if n == "per_1k" else 1) for n, c in zip(names, coef, strict=True)]
    return {n: round(c, 4) for n, c in zip(names, scaled, strict=True)} | {"r2": round(r2, 3)}


def training_report(rows: list[dict[str, Any]], *, loop_s: float) -> dict[str, Any]:
    seconds = sorted(r["train_s"] for r in rows)
    data = [r["interactions"] for r in rows]
    # What is not a neural kind's capped training: reading, popularity, co-visitation, the
    # holdout, registering, choosing. It is the part whose growth with the data can be seen.
    rest = [r["train_s"] - r["neural_s"] for r in rows]
    neural_kinds = [r["neural_kinds"] for r in rows]
    half = rows[: len(rows) // 2]

    def per_1k(part: list[dict[str, Any]], *, neural: bool) -> float:
        spent = sum(r["train_s"] - (0 if neural else r["neural_s"]) for r in part)
        return round(1000 * spent / sum(r["interactions"] for r in part), 4)

    kinds = sorted({r["serving_kind"] for r in rows})
    return {
        "shops": len(rows),
        "products": sum(r["products"] for r in rows),
        "interactions": sum(data),
        "neural_shops": sum(n > 0 for n in neural_kinds),
        "serving_kinds": {k: sum(r["serving_kind"] == k for r in rows) for k in kinds},
        "total_s": round(loop_s, 1),
        "total_over_sum_of_shops": round(loop_s / sum(seconds), 4),
        "per_shop_s": {
            "p50": round(statistics.median(seconds), 2),
            "p95": round(seconds[int(0.95 * (len(seconds) - 1))], 2),
            "max": round(seconds[-1], 2),
        },
        "line_s": _fit([data], [r["train_s"] for r in rows]),
        "line_without_neural_s": _fit([data], rest),
        "line_with_neural_kinds_s": _fit([data, neural_kinds], [r["train_s"] for r in rows]),
        "per_1k_first_half": per_1k(half, neural=True),
        "per_1k_all": per_1k(rows, neural=True),
        "per_1k_without_neural_first_half": per_1k(half, neural=False),
        "per_1k_without_neural_all": per_1k(rows, neural=False),
        "peak_rss_mb": round(_peak_mb(), 1),
    }


def _print(training: dict[str, Any], serving: dict[str, dict[str, Any]]) -> None:
    print(f"\ntraining (neural budget {NEURAL_BUDGET_S:g} s a kind)")
    for key, value in training.items():
        print(f"  {key:34} {value}")
    print(
        f"\n{'serving (bound ' + str(CACHE_MB) + ' MB)':28} {'cached':>10} {'RSS MB':>15} "
        f"{'cold p50/p99 ms':>17} {'warm p50/p99 ms':>17}"
    )
    for name, s in serving.items():
        cached = f"{s['models_cached']}/{s['models_loaded']}"
        rss = f"{s['rss_before_mb']:.0f}->{s['rss_after_mb']:.0f}"
        cold, warm = s["cold"], s["warm"]
        print(
            f"{name:28} {cached:>10} {rss:>15} {cold['p50_ms']:>8.2f}/{cold['p99_ms']:<8.2f} "
            f"{warm['p50_ms']:>8.3f}/{warm['p99_ms']:<8.3f}"
        )


def main() -> dict[str, Any]:
    import torch

    torch.set_num_threads(1)
    with scratch_var() as var:
        # MLflow's download progress bars would bury the per-shop lines.
        quiet = {"MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR": "false", "MLFLOW_LOGGING_LEVEL": "WARNING"}
        os.environ.update(bench_env(var, SLIPSTREAM_PREDICTOR_CACHE_MB=str(CACHE_MB), **quiet))
        django.setup()
        from django.conf import settings
        from django.core.management import call_command

        from recommender import registry

        call_command("migrate", verbosity=0)
        # The MLflow store creates its schema on first use: not the first shop's cost.
        registry.model_versions(kind="popularity", tracking_uri=settings.MLFLOW_TRACKING_URI)
        started = time.perf_counter()
        rows = [shop_create(i) for i in range(SHOPS)]
        install_s = time.perf_counter() - started
        print(f"installed {SHOPS} shops in {install_s:.0f} s", flush=True)
        started = time.perf_counter()
        for n, row in enumerate(rows):
            shop_train(row)
            print(
                f"{n + 1}/{SHOPS} {row['domain']} {row['products']} products "
                f"{row['interactions']} interactions {row['cases']} cases: {row['train_s']:.1f} s "
                f"{row['kinds_s']} -> {row['serving_kind']}",
                flush=True,
            )
        training = training_report(rows, loop_s=time.perf_counter() - started)
        shops = [(r["namespace"], r["serving_kind"], r["products"]) for r in rows]
        serving = {}
        for name, only in (
            ("chosen kind (measured)", None),
            ("popularity (baseline)", "popularity"),
        ):
            with ProcessPoolExecutor(1, mp_context=get_context("spawn")) as pool:
                serving[name] = pool.submit(serve, shops, only=only).result()
    _print(training, serving)
    result = {
        "shops": SHOPS,
        "per_product": PER_PRODUCT,
        "neural_budget_s": NEURAL_BUDGET_S,
        "threads": 1,
        "install_s": round(install_s, 1),
        "training": training,
        "serving": serving,
        "baseline": "every shop's popularity model through the same LRU, in its own process",
        "per_shop": [{k: v for k, v in r.items() if k != "namespace"} for r in rows],
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "shops.json").write_text(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()
