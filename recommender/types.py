"""The plain records every model consumes and produces."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Interaction:
    """One shopper-product interaction: the standard record minus shop and event-id provenance.

    ``interaction`` is "view", "cart" or "purchase"; other kinds (rec impressions, clicks) may
    flow through and are ignored by models. ``ts`` is unix seconds, UTC.
    """

    user_id: str
    item_id: str
    interaction: str
    ts: float


@dataclass(frozen=True, slots=True)
class Scored:
    """A recommended item with the model's score (higher is better)."""

    item_id: str
    score: float


# What neural training is told and what it reports (recommender.trainer), as plain data: the app
# configures training without importing torch.
@dataclass(frozen=True)
class TrainConfig:
    max_epochs: int = 200
    patience: int = 3  # epochs without a better validation NDCG before stopping
    # Never stop early before this many optimiser steps. On a small shop's history an epoch is a
    # few steps, and patience alone stopped SASRec at its starting weights (1,000 Beauty users:
    # 3 epochs, 24 steps, NDCG@10 0.0014; with this floor 0.0089; docs/benchmarks.md).
    min_steps: int = 1000
    warmup_steps: int = 0  # the learning rate rises linearly from 0 over this many steps
    batch_size: int = 128
    learning_rate: float = 1e-3
    weight_decay: float = 0.0
    adam_beta2: float = 0.999  # the SASRec paper's code uses 0.98
    seed: int = 0
    k: int = 10  # validation cut-off
    valid_cases: int = 5000  # at most this many validation cases (a seeded sample) per epoch
    threads: int | None = None  # torch intra-op threads; None keeps torch's default
    max_seconds: float | None = None  # no new epoch starts after this long (a worker's budget)
    progress: bool = True


# A warm start: a few epochs at a higher rate (new products start from random embeddings), no
# validation between them. Whoever warm-starts judges the result once, at the end: the
# retraining's champion gate on the shop's holdout day, the benchmark on its test cases.
# Validating every epoch cost SLi-Rec about 80% of its update (re-ranking 5,000 cases 5 times);
# docs/benchmarks.md has the figures.
WARM_START = TrainConfig(max_epochs=4, learning_rate=3e-3, valid_cases=0)


@dataclass(frozen=True, slots=True)
class Epoch:
    epoch: int
    loss: float
    valid_hr: float
    valid_ndcg: float
    seconds: float


@dataclass(frozen=True)
class TrainResult:
    best_epoch: int  # 0: no epoch beat the starting weights (kept)
    best_ndcg: float
    epochs: list[Epoch] = field(default_factory=list)
    seconds: float = 0.0
