"""Model inference at catalogue scale: `python -m bench.inference`.

One shopper with a 50-item history asks for a top-10 over a 25,000-item catalogue, on one
thread (the issue's target: p50 <= 5 ms), for every servable model; then the batched
throughput (shoppers per second, batches of 256). The baseline in the same run is popularity,
which only walks a precomputed list. Inference cost does not depend on what the weights learned,
so the neural models are trained for one short epoch on synthetic sessions over the catalogue;
the figures are for serving, not quality (docs/benchmarks.md has the quality tables).

Writes bench/results/inference.json.
"""

from __future__ import annotations

import json
import os
import random
import statistics
import time
from pathlib import Path
from typing import Any

import torch

from bench.common import cpu_model
from recommender.build import build
from recommender.neural import NeuralRecommender
from recommender.predictor import Recommender
from recommender.types import Interaction, TrainConfig

ITEMS = int(os.environ.get("BENCH_ITEMS", "25000"))
HISTORY = 50
K = 10
CALLS = int(os.environ.get("BENCH_CALLS", "300"))
BATCH = 256
RESULTS = Path(__file__).parent / "results"


def _sessions(rng: random.Random, shoppers: int) -> list[Interaction]:
    """Shoppers browsing neighbourhoods of the catalogue, a minute or so between views."""
    out = []
    for user in range(shoppers):
        item, t = rng.randrange(ITEMS), 1_767_225_600.0 + rng.random() * 86_400
        for _ in range(rng.randint(3, 12)):
            item = (item + rng.randint(-20, 20)) % ITEMS
            t += rng.uniform(5, 300)
            out.append(Interaction(f"u{user}", f"p{item}", "view", t))
    # Every product appears at least once, so every model knows the whole catalogue.
    out += [Interaction("catalogue", f"p{n}", "view", 1_767_225_600.0 + n) for n in range(ITEMS)]
    return out


def _histories(rng: random.Random, n: int) -> list[list[tuple[str, float]]]:
    return [
        [(f"p{rng.randrange(ITEMS)}", 1_767_300_000.0 + 30 * step) for step in range(HISTORY)]
        for _ in range(n)
    ]


def _single(model: Recommender, histories: list[list[tuple[str, float]]]) -> dict[str, float]:
    for history in histories[:20]:  # warm-up
        model.recommend(history=history, k=K)
    times = []
    for history in histories:
        start = time.perf_counter()
        model.recommend(history=history, k=K)
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    return {
        "p50_ms": round(statistics.median(times), 3),
        "p99_ms": round(times[int(0.99 * (len(times) - 1))], 3),
    }


def _throughput(model: Recommender, histories: list[list[tuple[str, float]]]) -> float:
    batched = getattr(model, "recommend_batch", None)
    start = time.perf_counter()
    for offset in range(0, len(histories), BATCH):
        chunk = histories[offset : offset + BATCH]
        if batched is not None:
            batched(histories=chunk, k=K, excludes=[()] * len(chunk))
        else:
            for history in chunk:
                model.recommend(history=history, k=K)
    return round(len(histories) / (time.perf_counter() - start), 1)


def main() -> dict[str, Any]:
    torch.set_num_threads(1)
    rng = random.Random(0)
    train = _sessions(rng, shoppers=20_000)
    one_epoch = TrainConfig(max_epochs=1, patience=1, valid_cases=0, threads=1, progress=False)
    histories = _histories(rng, CALLS)
    batch_histories = _histories(rng, 4 * BATCH)
    rows: dict[str, dict[str, float]] = {}
    cpu = cpu_model()
    print(cpu, flush=True)
    for kind in ("popularity", "covisit", "als", "stan", "sasrec", "slirec"):
        model = build(kind, train, [], timed=True, train_config=one_epoch).model
        if isinstance(model, NeuralRecommender):
            assert len(model.vocab) - 1 >= ITEMS, "the model must span the whole catalogue"
        rows[kind] = {
            **_single(model, histories),
            "batched_shoppers_per_s": _throughput(model, batch_histories),
        }
        print(kind.ljust(12), rows[kind], flush=True)
    result = {
        "items": ITEMS,
        "history": HISTORY,
        "k": K,
        "threads": 1,
        "cpu": cpu,
        "baseline": "popularity",
        "target_p50_ms": 5.0,
        "models": rows,
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "inference.json").write_text(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()
