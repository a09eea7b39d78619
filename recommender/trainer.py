"""One trainer for every neural model: Adam, shuffled batches, validation after each epoch, early
stopping that restores the best epoch's weights, seeds, and a progress bar.

    model = SASRec.create(SASRecConfig(), split.train)
    result = fit(model, split.train, split.valid, TrainConfig(seed=0))

A warm start is the same call on ``model.warm_start(new)`` with ``since`` set to the start of the
new data and a few epochs: only targets from ``since`` on are learned, with the shoppers' earlier
interactions as context. With ``valid_cases=0`` nothing is validated: ``max_epochs`` epochs run
and the last weights are kept (a refit on all the data for the epochs model selection chose).
"""

from __future__ import annotations

import copy
import math
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import torch
from tqdm import tqdm

from recommender.evaluate import Case, evaluate
from recommender.neural import NeuralRecommender
from recommender.types import Epoch, Interaction, TrainConfig, TrainResult


def validate(model: NeuralRecommender, cases: Sequence[Case], *, k: int) -> tuple[float, float]:
    """Full-ranking HR@k and NDCG@k, the shopper's history excluded (as `evaluate` does)."""
    metrics = evaluate(model, cases, k=k)
    return metrics.hr, metrics.ndcg


def _optimizer(
    model: NeuralRecommender, config: TrainConfig
) -> tuple[torch.optim.Optimizer, torch.optim.lr_scheduler.LRScheduler]:
    """Adam, its learning rate rising linearly over ``warmup_steps`` and then constant."""
    optimizer = torch.optim.Adam(
        model.net.parameters(),
        lr=config.learning_rate,
        betas=(0.9, config.adam_beta2),
        weight_decay=config.weight_decay,
    )
    warmup = max(config.warmup_steps, 1)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: min(1.0, (step + 1) / warmup)
    )
    return optimizer, schedule


def _epoch(
    model: NeuralRecommender,
    batches: Iterator[Any],
    optimizer: torch.optim.Optimizer,
    schedule: torch.optim.lr_scheduler.LRScheduler,
    bar: tqdm,
) -> tuple[float, int]:
    """One pass over ``batches``: (mean loss, optimiser steps taken)."""
    model.net.train()
    total, steps = 0.0, 0
    for batch in batches:
        loss = model.loss(batch)
        if not math.isfinite(loss.item()):
            raise FloatingPointError(f"{model.kind}: loss became {loss.item()}")
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        schedule.step()
        total += loss.item()
        steps += 1
        bar.update()
        bar.set_postfix(loss=f"{total / steps:.4f}")
    model.net.eval()
    return total / max(steps, 1), steps


def fit(
    model: NeuralRecommender,
    train: Sequence[Interaction],
    valid: Sequence[Case],
    config: TrainConfig,
    *,
    since: float | None = None,
    on_epoch: Callable[[Epoch], None] | None = None,
) -> TrainResult:
    """Train ``model`` in place until validation NDCG@k stops improving for ``patience`` epochs
    (and ``min_steps`` optimiser steps have run) or ``max_epochs`` pass; its weights end as
    those of the best epoch."""
    started = time.perf_counter()
    if config.threads is not None:
        torch.set_num_threads(config.threads)
    torch.manual_seed(config.seed)
    generator = torch.Generator().manual_seed(config.seed)
    sample = torch.randperm(len(valid), generator=generator)[: config.valid_cases].tolist()
    valid = [valid[i] for i in sorted(sample)]
    selecting = bool(valid)
    data = model.sequences(train)
    optimizer, schedule = _optimizer(model, config)
    best_ndcg = validate(model, valid, k=config.k)[1] if selecting else 0.0
    best_epoch, best_state = 0, copy.deepcopy(model.net.state_dict())
    epochs: list[Epoch] = []
    steps = 0
    for epoch in range(1, config.max_epochs + 1):
        epoch_started = time.perf_counter()
        # Bars only on a terminal; the per-epoch line below is written either way.
        bar = tqdm(desc=f"{model.kind} epoch {epoch}", leave=False, disable=not _bars(config))
        batches = model.batches(
            data, batch_size=config.batch_size, generator=generator, since=since
        )
        loss, taken = _epoch(model, batches, optimizer, schedule, bar)
        bar.close()
        steps += taken
        hr, ndcg = validate(model, valid, k=config.k) if selecting else (0.0, 0.0)
        record = Epoch(epoch, loss, hr, ndcg, time.perf_counter() - epoch_started)
        epochs.append(record)
        if on_epoch is not None:
            on_epoch(record)
        if config.progress:
            tqdm.write(
                f"{model.kind} epoch {epoch}: loss {loss:.4f}, valid HR@{config.k} "
                f"{hr:.4f} NDCG@{config.k} {ndcg:.4f} ({record.seconds:.1f}s, {steps} steps)"
            )
        if not selecting or ndcg > best_ndcg:
            best_epoch, best_ndcg, best_state = epoch, ndcg, copy.deepcopy(model.net.state_dict())
        elif epoch - best_epoch >= config.patience and steps >= config.min_steps:
            break
        if config.max_seconds is not None and time.perf_counter() - started > config.max_seconds:
            break
    model.net.load_state_dict(best_state)
    model.net.eval()
    return TrainResult(best_epoch, best_ndcg, epochs, time.perf_counter() - started)


def _bars(config: TrainConfig) -> bool:
    return config.progress and sys.stderr.isatty()
