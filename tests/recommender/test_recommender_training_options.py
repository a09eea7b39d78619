"""The trainer's options beyond early stopping: a refit without validation, a minimum number of
optimiser steps, a warm-up; and the split's held-out interactions a refit learns."""

from __future__ import annotations

import json
import random
from pathlib import Path

from recommender.__main__ import main
from recommender.data import leave_one_out
from recommender.sasrec import SASRec, SASRecConfig
from recommender.trainer import fit
from recommender.types import Interaction, TrainConfig
from tests.recommender.worlds import ring_world


def test_loo_holds_out_each_shoppers_second_to_last_interaction() -> None:
    seen = [Interaction("u", item, "view", float(n)) for n, item in enumerate("abcd")]
    seen.append(Interaction("v", "a", "view", 0.0))  # too short to be evaluated
    split = leave_one_out(seen)
    assert [i.item_id for i in split.held] == ["c"]
    assert sorted(i.item_id for i in split.train + split.held) == ["a", "a", "b", "c"]


def test_without_validation_every_epoch_runs_and_the_last_weights_are_kept() -> None:
    split = leave_one_out(ring_world(n_items=10, users=60, length=6, seed=2))
    model = SASRec.create(SASRecConfig(dim=8), split.train)
    config = TrainConfig(max_epochs=4, patience=1, valid_cases=0, threads=1, progress=False)
    result = fit(model, split.train, split.valid, config)
    assert (len(result.epochs), result.best_epoch) == (4, 4)


def test_early_stopping_waits_for_min_steps() -> None:
    split = leave_one_out(ring_world(n_items=10, users=60, length=6, seed=2))
    # A learning rate of 0 never improves on the starting weights: patience 1 stops after one
    # epoch unless min_steps asks for more. 60 shoppers in batches of 16: 4 steps an epoch.
    frozen = TrainConfig(
        max_epochs=50,
        patience=1,
        min_steps=0,
        learning_rate=0.0,
        batch_size=16,
        threads=1,
        progress=False,
    )
    model = SASRec.create(SASRecConfig(dim=8), split.train)
    assert len(fit(model, split.train, split.valid, frozen).epochs) == 1
    waiting = TrainConfig(**{**frozen.__dict__, "min_steps": 10})
    assert len(fit(model, split.train, split.valid, waiting).epochs) == 3  # 12 steps >= 10


def test_warmup_starts_the_learning_rate_near_zero() -> None:
    split = leave_one_out(ring_world(n_items=10, users=60, length=6, seed=2))
    config = TrainConfig(max_epochs=1, warmup_steps=10**9, threads=1, progress=False)
    model = SASRec.create(SASRecConfig(dim=8, dropout=0.0), split.train)
    before = {k: v.clone() for k, v in model.net.state_dict().items()}
    fit(model, split.train, split.valid, config)
    moved = max(float((model.net.state_dict()[k] - v).abs().max()) for k, v in before.items())
    assert moved < 1e-6  # at most a few steps at lr 1e-3 / 1e9


def test_benchmark_refit_trains_on_the_validation_targets_for_the_chosen_epochs(
    tmp_path: Path,
) -> None:
    data = tmp_path / "ring.txt"
    rng = random.Random(3)
    lines = []
    for u in range(80):
        start = rng.randrange(12)
        lines.append(" ".join([f"u{u}"] + [f"i{(start + s) % 12}" for s in range(6)]))
    data.write_text("\n".join(lines) + "\n")
    out = tmp_path / "refit.json"
    argv = ["benchmark", "--data", str(data), "--format", "sequences", "--models", "sasrec",
            "--max-epochs", "3", "--threads", "1", "--quiet", "--lr", "0.005", "--refit",
            "--json", str(out)]  # fmt: skip
    assert main(argv) == 0
    row = json.loads(out.read_text())["models"]["sasrec"]
    assert row["epochs"] == 3  # the selection run's, with its validation
    assert row["refit_epochs"] == max(row["best_epoch"], 1)
    assert 0 < row["refit_s"] < row["train_s"]
