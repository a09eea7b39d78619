"""SASRec (Kang & McAuley, ICDM 2018) trained with full softmax cross-entropy ("SASRec+").

A causal transformer over the shopper's last ``max_len`` items; the next item's score is the dot
product of the last position's output with the item's embedding (shared with the input table).
Klenitskiy & Vasilev (RecSys 2023) showed that a softmax over the whole catalogue, instead of the
paper's one sampled negative per positive, is what makes SASRec the strong baseline; at our
catalogue sizes (tens of thousands of products) the full softmax is affordable on a CPU.

It scores the whole catalogue with one matrix product, so it is also a retriever: no candidate
generation is needed.
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


@dataclass(frozen=True)
class SASRecConfig:
    dim: int = 64
    blocks: int = 2
    heads: int = 1
    dropout: float = 0.3
    max_len: int = 50


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
    ) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        """(inputs, targets), both (B, T ≤ max_len): one row per shopper holding their last
        T + 1 items, every position predicting the next one; PAD targets are not learned.

        Shoppers of similar length share a batch, only as wide as its longest row.
        """
        lengths = data.starts.diff().clamp(max=self.config.max_len + 1)
        users = torch.arange(data.users)
        if since is not None:
            last = data.starts[1:] - 1
            users = users[(data.ts[last] >= since) & (lengths > 1)]
        for chosen in batches_by_length(lengths[users], batch_size, generator):
            batch = users[chosen]
            width = int(lengths[batch].max())
            items, ts = data.windows(data.starts[batch + 1], width)
            inputs, targets = items[:, :-1], items[:, 1:]
            unlearned = inputs == PAD
            if since is not None:
                unlearned |= ts[:, 1:] < since
            yield inputs, targets.masked_fill(unlearned, PAD)

    def loss(self, batch: tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
        inputs, targets = batch
        learn = targets != PAD
        states = self.net(inputs)[learn]
        logits = states @ self.net.items.weight.T
        logits[:, PAD] = float("-inf")
        return F.cross_entropy(logits, targets[learn])

    def scores(
        self, items: torch.Tensor, ts: torch.Tensor, candidates: torch.Tensor | None
    ) -> torch.Tensor:
        last = self.net(items)[:, -1]
        table = self.net.items.weight
        if candidates is None:
            return last @ table.T
        return (table[candidates] * last[:, None, :]).sum(-1)
