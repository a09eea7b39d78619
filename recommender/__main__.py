"""`python -m recommender benchmark|train …`: train models on a dataset, evaluate, register.

    python -m recommender benchmark --data ../shared/data/amazon-beauty-5core/Beauty.txt \\
        --format sequences --models popularity,covisit,sasrec --protocol loo --k 10 --json out.json
    python -m recommender train --data events.csv --format interactions --model sasrec \\
        --tracking-uri sqlite:///var/mlflow.db --promote

Protocols: `loo` (leave-one-out: each user's last item is the test target, the one before it
validates) and `temporal` (`--data` is the training file, `--test` the later one; every next
click of each test session; the latest 10% of training sessions validate).
`--negatives 100` adds the sampled protocol of published tables (and AUC/GAUC) beside full
ranking. `--set sasrec.dropout=0.5` overrides a model's config field. `--warm-days 1` (timed
data) also measures a warm start: a model trained without the last day of the training data,
updated on that day, against the full training's time.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from recommender.commands import benchmark, print_table, train
from recommender.data import FORMATS
from recommender.kinds import KINDS
from recommender.types import WARM_START


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--data",
        required=True,
        metavar="PATH",
        help="the dataset; with --protocol temporal, the training part only",
    )
    parser.add_argument(
        "--test", metavar="PATH", help="the later test file of --protocol temporal (same format)"
    )
    parser.add_argument(
        "--format",
        required=True,
        choices=FORMATS,
        help="interactions: CSV or JSON Lines with user_id, item_id, timestamp "
        "(epoch seconds or ISO 8601) and optional interaction_type; sequences: a line per user, "
        '"user item item ..." in order (Amazon Beauty); pairs: "user item" lines in order; '
        "sessions: tab-separated SessionId, ItemId, Time (YOOCHOOSE); diginetica: "
        "semicolon-separated session_id, item_id, eventdate, timeframe (DIGINETICA)",
    )
    parser.add_argument(
        "--protocol",
        choices=("loo", "temporal"),
        default="loo",
        help="loo: each user's last item is the test target, the one before it validates; "
        "temporal: every next click of each --test session, the latest 10%% of training "
        "sessions validate (default: %(default)s)",
    )
    parser.add_argument(
        "--k",
        type=int,
        default=10,
        help="cut-off of the reported HR, NDCG and MRR (and of --promote's gate); temporal "
        "also reports Recall@20 and MRR@20 (default: %(default)s)",
    )
    parser.add_argument(
        "--negatives",
        type=int,
        default=0,
        metavar="N",
        help="also rank each target among N items the user never touched, drawn uniformly "
        "from the catalogue (the sampled protocol of published tables), and report AUC and "
        "GAUC; 0: full ranking only (default: %(default)s)",
    )
    parser.add_argument(
        "--sampler",
        choices=("paper", "distinct"),
        default="paper",
        help="how --negatives are drawn: paper, the SASRec code's protocol exactly (draws with "
        "replacement that exclude only the history, at most 10,000 shoppers sampled); "
        "distinct: N different items, never the target, every shopper (default: %(default)s)",
    )
    parser.add_argument(
        "--set",
        action="append",
        metavar="KIND.FIELD=VALUE",
        help="override a field of a model's config, e.g. sasrec.dropout=0.5; repeatable",
    )
    parser.add_argument(
        "--max-epochs",
        type=int,
        default=200,
        help="neural models (sasrec, slirec): most training epochs (default: %(default)s)",
    )
    parser.add_argument(
        "--patience",
        type=int,
        default=3,
        help="neural models: stop after this many epochs without a better validation NDCG@10; "
        "the best epoch's weights are kept (default: %(default)s)",
    )
    parser.add_argument(
        "--batch-size", type=int, help="neural models: training examples per batch (default: 128)"
    )
    parser.add_argument(
        "--lr", type=float, help="neural models: Adam's learning rate (default: 0.001)"
    )
    parser.add_argument(
        "--seed",
        type=int,
        default=0,
        help="random seed of neural training (default: %(default)s)",
    )
    parser.add_argument(
        "--users",
        type=int,
        metavar="N",
        help="keep a random sample of N users (sessions) of --data, drawn with --seed, as a "
        "small shop's history (the --test day of temporal stays whole; default: all)",
    )
    parser.add_argument(
        "--threads",
        type=int,
        help="torch threads for training and evaluation (default: torch's own); "
        "inference latency is always measured on one thread",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    parser.add_argument("--json", metavar="PATH", help="also write the result as JSON to this file")


def parser() -> argparse.ArgumentParser:
    """The command line of ``python -m recommender``."""
    parser = argparse.ArgumentParser(prog="python -m recommender")
    sub = parser.add_subparsers(dest="command", required=True)
    bench = sub.add_parser("benchmark", help="train and evaluate models on a dataset")
    _common(bench)
    bench.add_argument(
        "--models",
        default="popularity,covisit",
        help=f"comma-separated model kinds to compare, of {', '.join(KINDS)} "
        "(default: %(default)s)",
    )
    bench.add_argument(
        "--warm-days",
        type=float,
        default=0.0,
        metavar="DAYS",
        help="timed formats, neural models: also train without the last DAYS of the training "
        "data, warm-start that model on them, and report both beside the full training; "
        "0: off (default: %(default)s)",
    )
    # Measured on YOOCHOOSE (SASRec, NDCG@10): yesterday's model 0.140; 2 epochs at 1e-3 0.151;
    # 4 epochs at 3e-3 0.174, against 0.187 for a full training that takes 15x as long.
    bench.add_argument(
        "--warm-epochs",
        type=int,
        default=WARM_START.max_epochs,
        help="epochs of the warm start on the last --warm-days (default: %(default)s)",
    )
    bench.add_argument(
        "--warm-lr",
        type=float,
        default=WARM_START.learning_rate,
        help="Adam's learning rate of the warm start (default: %(default)s)",
    )
    bench.add_argument(
        "--refit",
        action="store_true",
        help="evaluate models trained on everything but the test targets (validation "
        "targets included): neural models are trained afresh for the number of epochs early "
        "stopping chose (the eSASRec benchmark's leave-one-out; train_s counts both), the "
        "others are fitted on it directly",
    )
    fit = sub.add_parser("train", help="train one model, log it to MLflow, register it")
    _common(fit)
    fit.add_argument(
        "--model",
        required=True,
        choices=KINDS,
        help="the model kind; registered as slipstream-<kind> with the @challenger alias",
    )
    fit.add_argument(
        "--tracking-uri",
        metavar="URI",
        help="MLflow tracking and registry URI, e.g. sqlite:///var/mlflow.db "
        "(default: $MLFLOW_TRACKING_URI, else MLflow's own default)",
    )
    fit.add_argument(
        "--artifact-location",
        metavar="URI",
        help="where the slipstream experiment keeps its artifacts, when this run creates it "
        "(default: MLflow's)",
    )
    fit.add_argument(
        "--promote",
        action="store_true",
        help="move @champion to the new version unless the current champion scores a higher "
        "NDCG@k on the same test cases",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.command == "benchmark":
        result = benchmark(args)
        print_table(result)
    else:
        result = train(args)
        print(json.dumps(result, indent=2))
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
