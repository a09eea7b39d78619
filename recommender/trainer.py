"""One trainer for every neural model: Adam, shuffled batches, validation after each epoch, early
stopping that restores the best epoch's weights, seeds, and a progress bar.

    model = SASRec.create(SASRecConfig(), split.train)
    result = fit(model, split.train, split.valid, TrainConfig(seed=0))

A warm start is the same call on ``model.warm_start(new)`` with ``since`` set to the start of the
new data and a few epochs: only targets from ``since`` on are learned, with the shoppers' earlier
interactions as context.
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Callable, Sequence

import torch
from tqdm import tqdm

from recommender.evaluate import Case, evaluate
from recommender.neural import NeuralRecommender
from recommender.types import Epoch, Interaction, TrainConfig, TrainResult


def validate(model: NeuralRecommender, cases: Sequence[Case], *, k: int) -> tuple[float, float]:
    """Full-ranking HR@k and NDCG@k, the shopper's history excluded (as `evaluate` does)."""
    metrics = evaluate(model, cases, k=k)
    return metrics.hr, metrics.ndcg


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
    or ``max_epochs`` pass; its weights end as those of the best epoch."""
    started = time.perf_counter()
    if config.threads is not None:
        torch.set_num_threads(config.threads)
    torch.manual_seed(config.seed)
    generator = torch.Generator().manual_seed(config.seed)
    sample = torch.randperm(len(valid), generator=generator)[: config.valid_cases].tolist()
    valid = [valid[i] for i in sorted(sample)]
    data = model.sequences(train)
    optimizer = torch.optim.Adam(
        model.net.parameters(), lr=config.learning_rate, weight_decay=config.weight_decay
    )
    _, best_ndcg = validate(model, valid, k=config.k)
    best_epoch, best_state = 0, copy.deepcopy(model.net.state_dict())
    epochs: list[Epoch] = []
    for epoch in range(1, config.max_epochs + 1):
        epoch_started = time.perf_counter()
        model.net.train()
        total, batches = 0.0, 0
        bar = tqdm(
            model.batches(data, batch_size=config.batch_size, generator=generator, since=since),
            desc=f"{model.kind} epoch {epoch}",
            leave=False,
            disable=not config.progress,
        )
        for batch in bar:
            loss = model.loss(batch)
            if not math.isfinite(loss.item()):
                raise FloatingPointError(
                    f"{model.kind}: loss became {loss.item()} in epoch {epoch}"
                )
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            total += loss.item()
            batches += 1
            bar.set_postfix(loss=f"{total / batches:.4f}")
        model.net.eval()
        hr, ndcg = validate(model, valid, k=config.k)
        record = Epoch(
            epoch=epoch,
            loss=total / max(batches, 1),
            valid_hr=hr,
            valid_ndcg=ndcg,
            seconds=time.perf_counter() - epoch_started,
        )
        epochs.append(record)
        if on_epoch is not None:
            on_epoch(record)
        if config.progress:
            tqdm.write(
                f"{model.kind} epoch {epoch}: loss {record.loss:.4f}, valid HR@{config.k} "
                f"{hr:.4f} NDCG@{config.k} {ndcg:.4f} ({record.seconds:.1f}s)"
            )
        if ndcg > best_ndcg:
            best_epoch, best_ndcg, best_state = epoch, ndcg, copy.deepcopy(model.net.state_dict())
        elif epoch - best_epoch >= config.patience:
            break
        if config.max_seconds is not None and time.perf_counter() - started > config.max_seconds:
            break
    model.net.load_state_dict(best_state)
    model.net.eval()
    return TrainResult(
        best_epoch=best_epoch,
        best_ndcg=best_ndcg,
        epochs=epochs,
        seconds=time.perf_counter() - started,
    )
