"""The commands of `python -m recommender` (recommender/__main__.py parses their arguments):
`benchmark` compares kinds on a dataset, `train` takes the one train-and-register path
(recommender/pipeline.py) on it."""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from recommender.build import Built, build, config_with
from recommender.data import Split, leave_one_out, load, sample_users, temporal
from recommender.evaluate import Metrics, evaluate, metrics_row
from recommender.kinds import KINDS, NEURAL
from recommender.pipeline import train_and_register
from recommender.predictor import Recommender
from recommender.types import WARM_START, Interaction

_DAY = 86_400.0


def _latency_ms(model: Recommender, split: Split, k: int, n: int = 500) -> tuple[float, float]:
    """One shopper per call, one thread: the serving path's cost."""
    _one_thread()
    times = []
    for history, _ in split.cases[:n]:
        start = time.perf_counter()
        model.recommend(history=history, k=k)
        times.append((time.perf_counter() - start) * 1000)
    if not times:
        return 0.0, 0.0
    times.sort()
    return statistics.median(times), times[min(len(times) - 1, int(0.99 * len(times)))]


def _one_thread() -> None:
    if "torch" in sys.modules:
        import torch

        torch.set_num_threads(1)


def _threads(args: argparse.Namespace) -> None:
    if args.threads and "torch" in sys.modules:
        import torch

        torch.set_num_threads(args.threads)


def _train_config(args: argparse.Namespace, **changes: Any) -> Any:
    from recommender.types import TrainConfig

    fields: dict[str, Any] = {
        "max_epochs": args.max_epochs,
        "patience": args.patience,
        "seed": args.seed,
        "threads": args.threads,
        "progress": not args.quiet,
    }
    if args.batch_size:
        fields["batch_size"] = args.batch_size
    if args.lr:
        fields["learning_rate"] = args.lr
    # `--set train.FIELD=VALUE` sets any TrainConfig field (the flags above are the common ones).
    config = config_with(TrainConfig(**fields), _overrides(args).get("train", {}))
    return dataclasses.replace(config, **changes)


def _overrides(args: argparse.Namespace) -> dict[str, dict[str, str]]:
    by_kind: dict[str, dict[str, str]] = defaultdict(dict)
    for item in args.set or ():
        target, _, value = item.partition("=")
        kind, _, field = target.partition(".")
        if not field or not value:
            raise SystemExit(f"--set wants kind.field=value, got {item!r}")
        by_kind[kind][field] = value
    return by_kind


def _split(args: argparse.Namespace) -> tuple[list[Interaction], Split]:
    data = load(Path(args.data), args.format)
    if args.users is not None:
        if args.users < 1:
            raise SystemExit(f"--users wants a positive number, got {args.users}")
        data = sample_users(data, args.users, seed=args.seed)
    if args.protocol == "temporal":
        if not args.test:
            raise SystemExit("--protocol temporal needs --test")
        return data, temporal(data, load(Path(args.test), args.format))
    return data, leave_one_out(data)


def _timed(args: argparse.Namespace) -> bool:
    # The Amazon files carry only the order of a user's items, not their time.
    return args.format not in ("sequences", "pairs")


def _cutoff(args: argparse.Namespace) -> int:
    # Session benchmarks publish Recall@20 and MRR@20: rank 20 deep, report both cut-offs.
    return max(args.k, 20) if args.protocol == "temporal" else args.k


def _row(metrics: Metrics, args: argparse.Namespace) -> dict[str, Any]:
    return metrics_row(metrics, k=args.k, deep=_cutoff(args))


def _evaluate(
    model: Recommender, split: Split, catalogue: list[str], args: argparse.Namespace
) -> Metrics:
    _threads(args)
    return evaluate(
        model,
        split.cases,
        k=_cutoff(args),
        negatives=args.negatives,
        catalogue=catalogue,
        sampler=args.sampler,
    )


def _build(
    kind: str, split: Split, args: argparse.Namespace, train_config: Any = None, **extra: Any
) -> tuple[Built, float]:
    """``build`` with the command line's settings, timed; ``train_config`` replaces the
    command line's for neural models (a warm start's)."""
    if train_config is None and kind in NEURAL:
        train_config = _train_config(args)
    started = time.perf_counter()
    built = build(
        kind,
        split.train,
        split.valid,
        timed=_timed(args),
        overrides=_overrides(args).get(kind),
        train_config=train_config,
        **extra,
    )
    return built, time.perf_counter() - started


def _warm(
    kind: str, split: Split, catalogue: list[str], args: argparse.Namespace
) -> dict[str, Any]:
    """Train without the last ``--warm-days`` of the training data ("base": yesterday's model),
    then warm-start it on them; both are scored on the same test cases as the full training,
    so the row shows what the update recovers and what it costs."""
    cutoff = max(i.ts for i in split.train) - args.warm_days * _DAY
    older = Split(
        train=[i for i in split.train if i.ts < cutoff], cases=split.cases, valid=split.valid
    )
    base, base_s = _build(kind, older, args)
    stale = _evaluate(base.model, split, catalogue, args)
    warm, warm_s = _build(
        kind,
        split,
        args,
        train_config=_train_config(
            args,
            max_epochs=args.warm_epochs,
            learning_rate=args.warm_lr,
            valid_cases=WARM_START.valid_cases,
        ),
        init=base.model,
        since=cutoff,
    )
    metrics = _evaluate(warm.model, split, catalogue, args)
    return {
        "new_interactions": sum(1 for i in split.train if i.ts >= cutoff),
        "base_train_s": round(base_s, 2),
        "warm_train_s": round(warm_s, 2),
        **{f"base_{key}": value for key, value in _row(stale, args).items()},
        **{f"warm_{key}": value for key, value in _row(metrics, args).items()},
    }


def _with_validation_targets(split: Split) -> Split:
    """``split`` training on everything but the test targets (what --refit evaluates)."""
    return Split(train=split.train + split.held, cases=split.cases, valid=split.valid)


def _refit(
    kind: str, split: Split, args: argparse.Namespace, selected: Built
) -> tuple[Built, dict[str, Any]]:
    """A fresh model trained on everything but the test targets (the validation targets too)
    for the epochs that early stopping on them chose, no validation: what the eSASRec
    benchmark's leave-one-out learns. ``train_s`` then counts both trainings."""
    epochs = max(selected.result.best_epoch, 1)
    config = _train_config(args, max_epochs=epochs, valid_cases=0)
    built, seconds = _build(kind, _with_validation_targets(split), args, train_config=config)
    return built, {"refit_epochs": epochs, "refit_s": round(seconds, 2)}


def benchmark(args: argparse.Namespace) -> dict[str, Any]:
    data, split = _split(args)
    catalogue = sorted({i.item_id for i in data})
    rows: dict[str, dict[str, Any]] = {}
    for kind in args.models.split(","):
        if kind not in KINDS:
            raise SystemExit(f"unknown model {kind!r}; known: {', '.join(KINDS)}")
        if args.refit and kind not in NEURAL:
            # Nothing to select on the validation targets: fit on them from the start.
            built, train_s = _build(kind, _with_validation_targets(split), args)
        else:
            built, train_s = _build(kind, split, args)
        selection = built.result  # early stopping's epochs, also when a refit replaces it
        refit: dict[str, Any] = {}
        if args.refit and kind in NEURAL:
            built, refit = _refit(kind, split, args, built)
            train_s += refit["refit_s"]
        metrics = _evaluate(built.model, split, catalogue, args)
        p50, p99 = _latency_ms(built.model, split, args.k)
        row = _row(metrics, args) | {
            "train_s": round(train_s, 2),
            "inference_ms_p50": round(p50, 3),
            "inference_ms_p99": round(p99, 3),
            "cases": metrics.cases,
        }
        if args.negatives:
            row["sampled_cases"] = metrics.sampled_cases
        if selection is not None:
            row["epochs"] = len(selection.epochs)
            row["best_epoch"] = selection.best_epoch
        row |= refit
        if args.warm_days and kind in NEURAL:
            warm = _warm(kind, split, catalogue, args)
            warm["warm_over_full"] = round(warm["warm_train_s"] / train_s, 3)
            row |= warm
        rows[kind] = row
    return {
        "data": str(args.data),
        "format": args.format,
        "protocol": args.protocol,
        "k": args.k,
        "negatives": args.negatives,
        "sampler": args.sampler,
        "users_or_sessions": len({i.user_id for i in data}),
        "items": len(catalogue),
        "interactions": len(data),
        "models": rows,
    }


def train(args: argparse.Namespace) -> dict[str, Any]:
    data, split = _split(args)
    kind = args.model
    registered = train_and_register(
        kind=kind,
        train=split.train,
        valid=split.valid,
        cases=split.cases,
        timed=_timed(args),
        tracking_uri=args.tracking_uri,
        artifact_location=args.artifact_location,
        k=args.k,
        deep=_cutoff(args),
        negatives=args.negatives,
        catalogue=sorted({i.item_id for i in data}),
        overrides=_overrides(args).get(kind),
        train_config=_train_config(args) if kind in NEURAL else None,
        params={"data": args.data, "protocol": args.protocol},
        promote=args.promote,
    )
    result: dict[str, Any] = {
        "model": registered.name,
        "version": registered.version,
        **registered.row,
    }
    if registered.gate is not None:
        result |= {
            "promoted": registered.gate.promoted,
            "champion_ndcg": registered.gate.champion_ndcg,
        }
    return result


def print_table(result: dict[str, Any]) -> None:
    models = result["models"]
    columns = sorted({c for row in models.values() for c in row}, key=_column_order)
    print(
        f"{result['data']} ({result['protocol']}, {result['interactions']} interactions, "
        f"{result['items']} items)"
    )
    print("model".ljust(12) + "".join(c.rjust(18) for c in columns))
    for name, row in models.items():
        print(name.ljust(12) + "".join(str(row.get(c, "")).rjust(18) for c in columns))


def _column_order(column: str) -> tuple[int, str]:
    order = ("hr", "ndcg", "mrr", "recall", "sampled", "auc", "gauc", "train", "epochs", "best")
    for n, prefix in enumerate(order):
        if column.startswith(prefix):
            return n, column
    return len(order), column
