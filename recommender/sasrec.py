"""SASRec (Kang & McAuley, ICDM 2018) with a choice of training loss.

A causal transformer over the shopper's last ``max_len`` items; the next item's score is the dot
product of the last position's output with the item's embedding (shared with the input table).
It scores the whole catalogue with one matrix product, so it is also a retriever: no candidate
generation is needed.

Losses (``SASRecConfig.loss``), each position predicting the next item:
- ``softmax``: cross-entropy over the whole catalogue ("SASRec+"; Klenitskiy & Vasilev, RecSys
  2023, showed this is what makes SASRec the strong baseline). Affordable on a CPU at tens of
  thousands of products.
- ``sampled``: cross-entropy over the target and ``negatives`` items drawn uniformly, shared by
  the batch (the eSASRec benchmark's SASRec uses 256); a negative that is the position's own
  target is masked out. Uniform draws need no logQ correction (every item's log q is equal).
- ``bce``: the paper's binary cross-entropy, one negative per position drawn uniformly from the
  items the shopper never touched; with ``init="xavier"`` it is the paper's setting.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import ClassVar

import torch
import torch.nn.functional as F
from torch import nn

from recommender.neural import NeuralRecommender
from recommender.sequences import PAD, Sequences, batches_by_length

LOSSES = ("softmax", "sampled", "bce")
INITS = ("normal", "xavier")
# (inputs, targets, negatives): (B, T) each; negatives only for the bce loss.
Batch = tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]


@dataclass(frozen=True)
class SASRecConfig:
    dim: int = 64
    blocks: int = 2
    heads: int = 1
    dropout: float = 0.3
    max_len: int = 50
    loss: str = "softmax"  # one of LOSSES
    negatives: int = 256  # the sampled loss's negatives per batch
    init: str = "normal"  # normal: item table N(0, 1/dim); xavier: xavier_normal_ on every matrix

    def __post_init__(self) -> None:
        if self.loss not in LOSSES:
            raise ValueError(f"SASRec loss must be one of {', '.join(LOSSES)}, got {self.loss!r}")
        if self.init not in INITS:
            raise ValueError(f"SASRec init must be one of {', '.join(INITS)}, got {self.init!r}")
        if self.loss == "sampled" and self.negatives < 1:
            raise ValueError(f"the sampled loss needs negatives >= 1, got {self.negatives}")


class SASRecNet(nn.Module):
    def __init__(self, config: SASRecConfig, n_items: int) -> None:
        super().__init__()
        self.heads = config.heads
        self.items = nn.Embedding(n_items, config.dim, padding_idx=PAD)
        self.positions = nn.Embedding(config.max_len, config.dim)
        self.dropout = nn.Dropout(config.dropout)
        layer = nn.TransformerEncoderLayer(
            config.dim,
            config.heads,
            dim_feedforward=config.dim,
            dropout=config.dropout,
            batch_first=True,
            norm_first=True,
        )
        self.encoder = nn.TransformerEncoder(layer, config.blocks, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(config.dim)
        if config.init == "xavier":
            # The PyTorch port of the paper initialises every matrix (embeddings included) so.
            for parameter in self.parameters():
                if parameter.dim() >= 2:
                    nn.init.xavier_normal_(parameter)
        else:
            nn.init.normal_(self.items.weight, std=config.dim**-0.5)
        with torch.no_grad():
            self.items.weight[PAD].zero_()

    def forward(self, items: torch.Tensor) -> torch.Tensor:
        """Left-padded item indices (B, L) to one state per position (B, L, dim)."""
        length = items.shape[1]
        x = self.items(items) * math.sqrt(self.items.embedding_dim)
        x = self.dropout(x + self.positions.weight[-length:])
        padding = items == PAD
        # A position sees itself and earlier real items; padding rows see only themselves, so
        # no softmax row is empty (which would give NaN).
        causal = torch.ones(length, length, dtype=torch.bool).triu(1)
        blocked = causal[None] | padding[:, None, :]
        blocked &= ~torch.eye(length, dtype=torch.bool)[None]
        mask = blocked.repeat_interleave(self.heads, dim=0)
        x = self.encoder(x, mask=mask)
        return self.norm(x.masked_fill(padding[..., None], 0.0))


def touched_keys(data: Sequences, n_items: int) -> torch.Tensor:
    """Sorted ``user * n_items + item`` keys of every (shopper, item) pair in ``data``."""
    owner = torch.repeat_interleave(torch.arange(data.users), data.starts.diff())
    return torch.unique(owner * n_items + data.items)


def untouched_negatives(
    touched: torch.Tensor,
    n_items: int,
    users: torch.Tensor,
    shape: tuple[int, int],
    generator: torch.Generator,
) -> torch.Tensor:
    """Items (``shape``) drawn uniformly from 1..n_items-1, row ``r`` never an item shopper
    ``users[r]`` touched (``touched``: their keys, from `touched_keys`); the paper's negatives.
    Only the collisions are redrawn, for at most 100 rounds: a shopper who touched (nearly)
    every item keeps a colliding draw rather than stalling training."""
    rows = users[:, None].expand(shape)
    drawn = torch.zeros(shape, dtype=torch.int64)
    hit = torch.ones(shape, dtype=torch.bool)
    for _ in range(100):
        if not bool(hit.any()):
            break
        drawn[hit] = torch.randint(1, n_items, (int(hit.sum()),), generator=generator)
        keys = rows * n_items + drawn
        at = torch.searchsorted(touched, keys).clamp(max=max(len(touched) - 1, 0))
        hit = touched[at] == keys if len(touched) else torch.zeros(shape, dtype=torch.bool)
    return drawn


class SASRec(NeuralRecommender):
    kind: ClassVar[str] = "sasrec"
    config_class: ClassVar[type[SASRecConfig]] = SASRecConfig
    config: SASRecConfig
    net: SASRecNet

    @classmethod
    def network(cls, config: SASRecConfig, n_items: int) -> SASRecNet:
        return SASRecNet(config, n_items)

    def batches(
        self, data: Sequences, *, batch_size: int, generator: torch.Generator, since: float | None
    ) -> Iterator[Batch]:
        """(inputs, targets, negatives), (B, T ≤ max_len): one row per shopper holding their
        last T + 1 items, every position predicting the next one; PAD targets are not learned.
        Negatives (bce only) are drawn per position from items the shopper never touched.

        Shoppers of similar length share a batch, only as wide as its longest row.
        """
        lengths = data.starts.diff().clamp(max=self.config.max_len + 1)
        # A shopper with one item has nothing to predict (a one-view session, say).
        learns = lengths > 1
        if since is not None:
            learns &= data.ts[data.starts[1:] - 1] >= since
        users = torch.arange(data.users)[learns]
        n_items = len(self.vocab)
        touched = touched_keys(data, n_items) if self.config.loss == "bce" else None
        for chosen in batches_by_length(lengths[users], batch_size, generator):
            batch = users[chosen]
            width = int(lengths[batch].max())
            items, ts = data.windows(data.starts[batch + 1], width)
            inputs, targets = items[:, :-1], items[:, 1:]
            unlearned = inputs == PAD
            if since is not None:
                unlearned |= ts[:, 1:] < since
            negatives = None
            if touched is not None:
                shape = (inputs.shape[0], inputs.shape[1])
                negatives = untouched_negatives(touched, n_items, batch, shape, generator)
            yield inputs, targets.masked_fill(unlearned, PAD), negatives

    def loss(self, batch: Batch) -> torch.Tensor:
        inputs, targets, negatives = batch
        learn = targets != PAD
        states = self.net(inputs)[learn]  # (N, dim)
        table = self.net.items.weight
        positives = targets[learn]
        if self.config.loss == "softmax":
            logits = states @ table.T
            logits[:, PAD] = float("-inf")
            return F.cross_entropy(logits, positives)
        if self.config.loss == "sampled":
            drawn = torch.randint(1, table.shape[0], (self.config.negatives,))
            return sampled_softmax(states, table, positives, drawn)
        if negatives is None:
            raise ValueError("the bce loss needs the batch's negatives")
        return bce(states, table, positives, negatives[learn])

    def scores(
        self, items: torch.Tensor, ts: torch.Tensor, candidates: torch.Tensor | None
    ) -> torch.Tensor:
        last = self.net(items)[:, -1]
        table = self.net.items.weight
        if candidates is None:
            return last @ table.T
        return (table[candidates] * last[:, None, :]).sum(-1)


def sampled_softmax(
    states: torch.Tensor, table: torch.Tensor, positives: torch.Tensor, drawn: torch.Tensor
) -> torch.Tensor:
    """Cross-entropy of each state (N, dim) over its positive (N,) and the ``drawn`` items (M,)
    shared by the N states (uniform draws from the table's rows 1..V-1); a drawn item equal to
    the state's own positive is masked, so the positive is never also a negative."""
    positive = (states * table[positives]).sum(-1, keepdim=True)  # (N, 1)
    negative = states @ table[drawn].T  # (N, negatives)
    negative = negative.masked_fill(drawn[None, :] == positives[:, None], float("-inf"))
    logits = torch.cat([positive, negative], dim=1)
    return F.cross_entropy(logits, torch.zeros(len(states), dtype=torch.int64))


def bce(
    states: torch.Tensor, table: torch.Tensor, positives: torch.Tensor, negatives: torch.Tensor
) -> torch.Tensor:
    """The paper's loss, -log sigmoid(s·e_pos) - log(1 - sigmoid(s·e_neg)), position mean."""
    positive = (states * table[positives]).sum(-1)
    negative = (states * table[negatives]).sum(-1)
    return (F.softplus(-positive) + F.softplus(negative)).mean()
