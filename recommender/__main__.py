"""`python -m recommender benchmark …`: train models on a dataset, evaluate them, print a table.

    python -m recommender benchmark --data ../shared/data/amazon-beauty-5core/Beauty.txt \\
        --format sequences --models popularity,covisit --protocol loo --k 10 --json out.json

Protocols: `loo` (leave-one-out: each user's last item, the one before held out) and `temporal`
(`--data` is the training file, `--test` the later one; every next click of each test session).
`--negatives 100` adds the sampled protocol of published tables beside full ranking.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from recommender.covisit import CoVisitation, CoVisitConfig
from recommender.data import FORMATS, leave_one_out, load, temporal
from recommender.evaluate import evaluate
from recommender.popularity import Popularity, PopularityConfig
from recommender.predictor import Recommender
from recommender.types import Interaction


def _popularity(train: list[Interaction]) -> Recommender:
    return Popularity.fit(train, PopularityConfig())


def _covisit(train: list[Interaction]) -> Recommender:
    # Benchmark files without real time keep only the order: any two items of a user co-occur.
    return CoVisitation.fit(train, CoVisitConfig(window_s=float("inf")))


TRAINERS: dict[str, Callable[[list[Interaction]], Recommender]] = {
    "popularity": _popularity,
    "covisit": _covisit,
}


def _latency_ms(model: Recommender, cases: list[Any], k: int, n: int = 500) -> tuple[float, float]:
    times = []
    for history, _ in cases[:n]:
        start = time.perf_counter()
        model.recommend(history=history, k=k)
        times.append((time.perf_counter() - start) * 1000)
    if not times:
        return 0.0, 0.0
    times.sort()
    return statistics.median(times), times[min(len(times) - 1, int(0.99 * len(times)))]


def benchmark(args: argparse.Namespace) -> dict[str, Any]:
    data: list[Interaction] = load(Path(args.data), args.format)
    if args.protocol == "temporal":
        if not args.test:
            raise SystemExit("--protocol temporal needs --test")
        split = temporal(data, load(Path(args.test), args.format))
    else:
        split = leave_one_out(data)
    catalogue = sorted({i.item_id for i in data})
    rows = {}
    for name in args.models.split(","):
        if name not in TRAINERS:
            raise SystemExit(f"unknown model {name!r}; known: {', '.join(TRAINERS)}")
        started = time.perf_counter()
        model = TRAINERS[name](split.train)
        train_s = time.perf_counter() - started
        metrics = evaluate(
            model, split.cases, k=args.k, negatives=args.negatives, catalogue=catalogue
        )
        p50, p99 = _latency_ms(model, split.cases, args.k)
        rows[name] = {
            f"hr@{args.k}": round(metrics.hr, 4),
            f"ndcg@{args.k}": round(metrics.ndcg, 4),
            f"mrr@{args.k}": round(metrics.mrr, 4),
            **(
                {
                    f"sampled_hr@{args.k}": round(metrics.sampled_hr or 0.0, 4),
                    f"sampled_ndcg@{args.k}": round(metrics.sampled_ndcg or 0.0, 4),
                }
                if args.negatives
                else {}
            ),
            "train_s": round(train_s, 2),
            "inference_ms_p50": round(p50, 3),
            "inference_ms_p99": round(p99, 3),
            "cases": metrics.cases,
        }
    return {
        "data": str(args.data),
        "format": args.format,
        "protocol": args.protocol,
        "k": args.k,
        "negatives": args.negatives,
        "users_or_sessions": len({i.user_id for i in data}),
        "items": len(catalogue),
        "interactions": len(data),
        "models": rows,
    }


def _print(result: dict[str, Any]) -> None:
    models = result["models"]
    columns = list(next(iter(models.values())).keys()) if models else []
    print(
        f"{result['data']} ({result['protocol']}, {result['interactions']} interactions, "
        f"{result['items']} items)"
    )
    print("model".ljust(12) + "".join(c.rjust(18) for c in columns))
    for name, row in models.items():
        print(name.ljust(12) + "".join(str(row[c]).rjust(18) for c in columns))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m recommender")
    sub = parser.add_subparsers(dest="command", required=True)
    bench = sub.add_parser("benchmark", help="train and evaluate models on a dataset")
    bench.add_argument("--data", required=True)
    bench.add_argument("--test")
    bench.add_argument("--format", required=True, choices=FORMATS)
    bench.add_argument("--models", default="popularity,covisit")
    bench.add_argument("--protocol", choices=("loo", "temporal"), default="loo")
    bench.add_argument("--k", type=int, default=10)
    bench.add_argument("--negatives", type=int, default=0)
    bench.add_argument("--json")
    args = parser.parse_args(argv)
    result = benchmark(args)
    _print(result)
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
