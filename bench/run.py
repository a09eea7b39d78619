"""Hot-path benchmarks: `make bench`. Prints a table and writes bench/results/hot_paths.json.

Each figure stands beside a baseline measured in the same run on the same machine, so the ratio
means something even on a small, noisy VM:
- ingest: parsing + normalising a 10-event tp2 body (the worker side), against json.loads of it;
- window update: the Lua update (one round trip), against a bare PING round trip;
- inference: Predictor.recommend_batch for one shopper, against sorting the scores per call.
"""

from __future__ import annotations

import json
import os
import statistics
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import django

from bench.common import bench_env, scratch_var
from recommender.popularity import Popularity, PopularityConfig
from recommender.predictor import Predictor
from recommender.synthetic import generate_store
from shopapp.demo.tp2 import payload, product_event
from shopapp.events.keys import window_key

SHOP = "bench.myshopify.com"
RESULTS = Path(__file__).parent / "results"


def _timed(fn: Callable[[], object], *, seconds: float = 2.0, repeats: int = 3) -> dict[str, float]:
    """Per-call microseconds: min and median over `repeats` runs of about `seconds` each."""
    runs = []
    for _ in range(repeats):
        n, start = 0, time.perf_counter()
        while (elapsed := time.perf_counter() - start) < seconds:
            fn()
            n += 1
        runs.append(elapsed / n * 1e6)
    return {"min_us": min(runs), "median_us": statistics.median(runs)}


def bench_ingest() -> tuple[dict[str, float], dict[str, float]]:
    from shopapp.events.normalise import tp2_normalise
    from shopapp.events.tp2 import event_fields, payload_parse

    body = payload(
        *[
            product_event(
                shop=SHOP, item=str(1000 + n), duid=str(uuid.uuid5(uuid.NAMESPACE_URL, f"v{n}"))
            )
            for n in range(10)
        ]
    )

    def normalise() -> None:
        for raw in payload_parse(body, max_events=500):
            tp2_normalise(shop=SHOP, raw=event_fields(raw), received_at=1_767_225_600.0)

    return _timed(normalise), _timed(lambda: json.loads(body))


def bench_window() -> tuple[dict[str, float], dict[str, float]]:
    from shopapp.events.normalise import tp2_normalise
    from shopapp.events.window import window_update
    from shopapp.redis import get_redis

    r = get_redis()
    records = [
        tp2_normalise(
            shop=SHOP, raw=product_event(shop=SHOP, item="1"), received_at=1_767_225_600.0
        )[0]
    ]
    result = _timed(
        lambda: window_update(
            r=r, shop=SHOP, user_id="bench-user", records=records, window_seconds=300, max_events=50
        )
    )
    r.delete(window_key(SHOP, "bench-user"))
    return result, _timed(r.ping)


def bench_inference() -> tuple[dict[str, float], dict[str, float]]:
    store = generate_store(n_categories=10, products_per_category=100, n_shoppers=2000)
    model = Popularity.fit(store.interactions, PopularityConfig())
    predictor = Predictor(model=model, version="bench", name="slipstream-popularity")
    history = [(i.item_id, i.ts) for i in store.interactions[:5]]
    scores = {s.item_id: s.score for s in model.ranked}
    result = _timed(
        lambda: predictor.recommend_batch(
            histories=[history], k=10, excludes=[{h for h, _ in history}]
        )
    )
    return result, _timed(lambda: sorted(scores.items(), key=lambda kv: -kv[1])[:10])


def main() -> None:
    # Django (and the Redis the project starts for itself when REDIS_URL is unset) run on a
    # scratch var dir; leaving the block stops that Redis, however the run ends.
    with scratch_var() as var:
        os.environ.update(bench_env(var))
        django.setup()
        rows = {
            "ingest: parse+normalise 10 events (vs json.loads)": bench_ingest(),
            "window update, Lua, 1 round trip (vs PING)": bench_window(),
            "inference, popularity top-10 of 1000 (vs sort per call)": bench_inference(),
        }
    print(f"{'hot path':58} {'median µs':>10} {'min µs':>9} {'baseline µs':>12} {'ratio':>7}")
    out = {}
    for name, (measured, baseline) in rows.items():
        ratio = measured["median_us"] / baseline["median_us"]
        print(
            f"{name:58} {measured['median_us']:10.1f} {measured['min_us']:9.1f} "
            f"{baseline['median_us']:12.1f} {ratio:7.2f}"
        )
        out[name] = {"measured": measured, "baseline": baseline, "ratio": ratio}
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "hot_paths.json").write_text(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
