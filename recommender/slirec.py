"""SLi-Rec (Yu et al., IJCAI 2019): adaptive fusion of long- and short-term preferences.

For a shopper's history and one candidate item:

- long term, "attentive ASVD": the history's item embeddings weighted by a learned attention
  (softmax of ``q · W x_j``), padding masked out (the published port forgets the mask, so short
  histories attend to padding);
- short term, a time-aware LSTM (Time4LSTM) over the history: one time gate, fed the time since
  the previous action (the paper's choice; the port feeds time since the first action), scales
  what the cell keeps; another, fed the time from the action to now, scales what it takes in;
  both times also enter the output gate. Times are ``log1p(minutes)`` with no floor: the port's
  one-day unit and half-day floor would make every product view of a session look simultaneous;
- a target-aware attention over the LSTM's states (DIN-style ``[h, q, h - q, h * q]`` MLP), so the
  short-term preference is read in the light of the candidate;
- fusion: ``a = sigmoid(MLP[candidate, long, short, time since the last action])``; the shopper
  is ``a * long + (1 - a) * short``; an MLP over [shopper, candidate] gives the score.

Training follows the port: every prefix of every shopper is an example whose target is the next
item, scored against ``negatives`` other targets of the same batch (so negatives follow
popularity) with a softmax over the group.

SLi-Rec scores a candidate, it does not retrieve: serving re-ranks ``candidates`` items drawn
from co-visitation with the shopper's recent items, topped up with the most popular.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar, Self

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from recommender.covisit import CoVisitation, CoVisitConfig
from recommender.neural import History, NeuralRecommender
from recommender.sequences import PAD, Sequences, batches_by_length, minutes_feature
from recommender.types import Interaction

# (candidate, position) pairs through the attention MLP at once: their hidden layers (80 floats
# a pair by default) then fit a core's L2 cache, which measured faster than larger chunks.
_PAIRS_PER_CHUNK = 2048
# Up to this many shoppers without gradients, the LSTM's loop runs in NumPy (below).
_NUMPY_BATCH = 4
_ROWS_PER_SLICE = 50_000  # (shopper, candidate) rows scored at once when serving
_MASKED = -1e9  # finite, so a shopper with no history gets a uniform (harmless) attention


@dataclass(frozen=True)
class SLiRecConfig:
    dim: int = 40  # item embedding; the port's item 32 + category 8 (our events carry no category)
    attention_layers: tuple[int, ...] = (80, 40)
    head_layers: tuple[int, ...] = (100, 64)
    dropout: float = 0.3
    max_len: int = 50
    negatives: int = 9  # per positive, drawn from the batch's other targets
    candidates: int = 200  # re-ranked per shopper when serving
    covisit_window_s: float = 3600.0  # candidate generation; inf for data without real time


def _mlp(sizes: Sequence[int], dropout: float = 0.0) -> nn.Sequential:
    layers: list[nn.Module] = []
    for n_in, n_out in itertools.pairwise(sizes[:-1]):
        layers += [nn.Linear(n_in, n_out), nn.ReLU(), nn.Dropout(dropout)]
    layers.append(nn.Linear(sizes[-2], sizes[-1]))
    return nn.Sequential(*layers)


class _Scratch:
    """Buffers that every chunk of one attention pass writes into, instead of fresh tensors.

    Each chunk's hidden layers are hundreds of kilobytes: allocated anew, every chunk pays for
    faulting its pages in (measured: more than the arithmetic). Without gradients, the chunks
    of a call share one buffer per tensor; with them (training), ``out`` is None and every
    operation allocates as usual, since autograd cannot record into ``out=``."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.buffers: dict[str, torch.Tensor] = {}

    def out(self, name: str, like: torch.Tensor, *shape: int) -> torch.Tensor | None:
        if not self.enabled:
            return None
        size = math.prod(shape)
        buffer = self.buffers.get(name)
        if buffer is None or buffer.numel() < size:
            buffer = self.buffers[name] = like.new_empty(size)
        return buffer[:size].view(shape)


def _mlp_forward(
    layers: Iterable[nn.Module], x: torch.Tensor, scratch: _Scratch | None = None
) -> torch.Tensor:
    """``layers(x)`` for a 2-d ``x``, each ReLU in place (safe for autograd: it overwrites a
    linear layer's output, which that layer's backward does not read), into ``scratch``'s
    buffers if given: on many rows, each fresh tensor costs more than its arithmetic."""
    for n, layer in enumerate(layers):
        if isinstance(layer, nn.Linear):
            out = None if scratch is None else scratch.out(f"{n}", x, len(x), layer.out_features)
            x = torch.addmm(layer.bias, x, layer.weight.T, out=out)
        elif isinstance(layer, nn.ReLU):
            x = torch.relu_(x)
        else:
            x = layer(x)
    return x


class Time4LSTM(nn.Module):
    """An LSTM whose forget path is gated by the time since the previous action (T1) and whose
    input path by the time from each action to now (T2)."""

    def __init__(self, size: int) -> None:
        super().__init__()
        self.size = size
        self.x_gates = nn.Linear(size, 4 * size)
        self.h_gates = nn.Linear(size, 4 * size, bias=False)
        self.time_last = nn.Linear(1, size)
        self.time_now = nn.Linear(1, size)
        self.t1_x = nn.Linear(size, size)
        self.t1_t = nn.Linear(size, size, bias=False)
        self.t2_x = nn.Linear(size, size)
        self.t2_t = nn.Linear(size, size, bias=False)
        self.o_t = nn.Linear(2 * size, size, bias=False)

    def forward(
        self, x: torch.Tensor, since_last: torch.Tensor, to_now: torch.Tensor, real: torch.Tensor
    ) -> torch.Tensor:
        """x (B, L, size), times (B, L), real (B, L) bool → states (B, L, size); padding
        (always on the left) leaves the state at zero."""
        s = self.size
        batch, length, _ = x.shape
        t_last = torch.tanh(self.time_last(since_last[..., None]))
        t_now = torch.tanh(self.time_now(to_now[..., None]))
        # Everything that does not depend on the previous state, for all steps at once: the
        # input terms of the gates (i, j, f, o), the forget bias of 1, the output gate's time
        # term, and the time gates. The loop then does the recurrent product and the cell.
        keep_gate = torch.sigmoid(self.t1_x(x) + self.t1_t(t_last))
        take_gate = torch.sigmoid(self.t2_x(x) + self.t2_t(t_now))
        bias = torch.zeros(4 * s)
        bias[2 * s : 3 * s] = 1.0
        from_x = self.x_gates(x) + bias
        from_x[..., 3 * s :] += self.o_t(torch.cat([t_last, t_now], dim=-1))
        # sigmoid(z) = (1 + tanh(z / 2)) / 2: with the pre-activations of i, f and o halved,
        # one tanh serves all four gates and one multiply-add (gain, offset) turns them into
        # (i * take, tanh j, f * keep, o). A step is a handful of tiny operations whose cost
        # is per-call overhead, so every operation saved counts.
        half = torch.full((4 * s,), 0.5)
        half[s : 2 * s] = 1.0
        from_x = from_x * half
        w_h = (self.h_gates.weight * half[:, None]).T
        # A padded step gets 0 for i and f, so its cell stays at 0 (and with it its state):
        # left padding comes before every real step, when the state is still zero.
        mask = real[..., None].to(x.dtype)
        ones = torch.ones_like(keep_gate)
        gain = torch.cat([take_gate * mask, 2 * ones, keep_gate * mask, ones], dim=-1) * 0.5
        offset = gain * (half != 1.0)  # 0 for j
        # Columns where every row is padding change nothing: start at the first real one.
        first = int(real.any(dim=0).float().argmax()) if bool(real.any()) else length
        steps = (from_x[:, first:], gain[:, first:], offset[:, first:])
        loop = _cells if torch.is_grad_enabled() or batch > _NUMPY_BATCH else _cells_numpy
        states = loop(*steps, w_h)
        return torch.cat([states.new_zeros(batch, first, s), states], dim=1)


def _cells(
    from_x: torch.Tensor, gain: torch.Tensor, offset: torch.Tensor, w_h: torch.Tensor
) -> torch.Tensor:
    """The recurrence of Time4LSTM over (B, T, 4 size) inputs → states (B, T, size)."""
    batch, size = len(from_x), w_h.shape[0]
    h = from_x.new_zeros(batch, size)
    c = from_x.new_zeros(batch, size)
    states = []
    for x_t, gain_t, offset_t in zip(
        from_x.unbind(1), gain.unbind(1), offset.unbind(1), strict=True
    ):
        gates = torch.tanh(torch.addmm(x_t, h, w_h))  # (B, 4 size)
        i, j, f, o = torch.addcmul(offset_t, gates, gain_t).chunk(4, dim=-1)
        c = torch.addcmul(f * c, i, j)
        h = o * torch.tanh(c)
        states.append(h)
    return torch.stack(states, dim=1) if states else from_x.new_zeros(batch, 0, size)


def _cells_numpy(
    from_x: torch.Tensor, gain: torch.Tensor, offset: torch.Tensor, w_h: torch.Tensor
) -> torch.Tensor:
    """``_cells`` in NumPy, for serving a few shoppers without gradients: the same operations
    (tested equal), each a fraction of a PyTorch call's overhead, which is what a step costs."""
    x_np, gain_np, offset_np = from_x.numpy(), gain.numpy(), offset.numpy()
    w_np = w_h.contiguous().numpy()
    batch, length, size = x_np.shape[0], x_np.shape[1], w_np.shape[0]
    h = np.zeros((batch, size), dtype=x_np.dtype)
    c = np.zeros((batch, size), dtype=x_np.dtype)
    states = np.empty((batch, length, size), dtype=x_np.dtype)
    for t in range(length):
        gates = np.tanh(x_np[:, t] + h @ w_np) * gain_np[:, t] + offset_np[:, t]
        c = gates[:, 2 * size : 3 * size] * c + gates[:, :size] * gates[:, size : 2 * size]
        h = gates[:, 3 * size :] * np.tanh(c)
        states[:, t] = h
    return torch.from_numpy(states)


class SLiRecNet(nn.Module):
    def __init__(self, config: SLiRecConfig, n_items: int) -> None:
        super().__init__()
        d = config.dim
        self.items = nn.Embedding(n_items, d, padding_idx=PAD)
        nn.init.normal_(self.items.weight, std=0.05)
        with torch.no_grad():
            self.items.weight[PAD].zero_()
        self.long_w = nn.Linear(d, d, bias=False)
        self.long_q = nn.Parameter(torch.randn(d) * 0.05)
        self.lstm = Time4LSTM(d)
        self.query = nn.Linear(d, d)
        self.attention = _mlp([4 * d, *config.attention_layers, 1])
        self.fusion = _mlp([3 * d + 1, *config.attention_layers, 1])
        self.head = _mlp([2 * d, *config.head_layers, 1], config.dropout)
        self.dropout = nn.Dropout(config.dropout)

    def encode(
        self, items: torch.Tensor, ts: torch.Tensor, now: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """The candidate-independent part: (long (B, d), LSTM states (B, L, d), real (B, L),
        time from the last action to now (B, 1))."""
        real = items != PAD
        x = self.dropout(self.items(items))
        logits = (self.long_w(x) @ self.long_q).masked_fill(~real, _MASKED)
        long = (torch.softmax(logits, dim=1)[..., None] * x).sum(dim=1)
        previous = torch.cat([ts[:, :1], ts[:, :-1]], dim=1)
        # A shopper's first action has no previous one: 0, whether padding comes before it or
        # not (a padded column's time is 0, which made it decades since the epoch).
        follows = torch.cat([torch.zeros_like(real[:, :1]), real[:, :-1]], dim=1)
        since_last = minutes_feature((ts - previous).masked_fill(~follows, 0.0)).float()
        to_now = minutes_feature((now[:, None] - ts).masked_fill(~real, 0.0)).float()
        states = self.lstm(x, since_last, to_now, real)
        last_gap = minutes_feature(now - ts[:, -1]).float()[:, None]
        return long, states, real, last_gap

    def score(
        self,
        encoded: tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor],
        candidates: torch.Tensor,
    ) -> torch.Tensor:
        """Scores (B, C) of candidates (B, C) for encoded shoppers."""
        long, states, real, last_gap = encoded
        target = self.items(candidates)  # (B, C, d)
        q = self.query(target)  # (B, C, d)
        logits = self._attention_logits(states, q)  # (B, C, L)
        logits = logits.masked_fill(~real[:, None, :], _MASKED)
        short = torch.softmax(logits, dim=-1) @ states  # (B, C, d)
        long = long[:, None, :].expand_as(short)
        gap = last_gap[:, None, :].expand(-1, short.shape[1], -1)
        fused = torch.cat([target, long, short, gap], dim=-1).flatten(0, 1)  # (B C, 3d + 1)
        alpha = torch.sigmoid(_mlp_forward(self.fusion, fused)).view_as(short[..., :1])
        shopper = alpha * long + (1 - alpha) * short
        head = torch.cat([shopper, target], dim=-1).flatten(0, 1)  # (B C, 2d)
        return _mlp_forward(self.head, head).view(candidates.shape)

    def _attention_logits(self, states: torch.Tensor, q: torch.Tensor) -> torch.Tensor:
        """The attention MLP over ``[h, q, h - q, h * q]`` for every (candidate, position),
        (B, C, L). Its first layer is linear, so it is split by part: the ``h`` and ``q`` terms
        are computed once per position and once per candidate, and only ``h * q`` per pair;
        the same function as concatenating, at a fraction of the memory and time. Pairs go
        through in chunks of candidates small enough for their hidden layer to stay in cache."""
        first = self.attention[0]
        assert isinstance(first, nn.Linear)
        rest = list(self.attention)[1:]
        batch, n_candidates, d = q.shape
        length = states.shape[1]
        w_h, w_q, w_diff, w_prod = first.weight.split(d, dim=1)
        per_position = states @ (w_h + w_diff).T  # (B, L, a)
        per_candidate = q @ (w_q - w_diff).T + first.bias  # (B, C, a)
        step = max(1, _PAIRS_PER_CHUNK // (batch * length))
        scratch = _Scratch(enabled=not torch.is_grad_enabled())
        chunks = []
        for start in range(0, n_candidates, step):
            q_part = q[:, start : start + step]  # (B, c, d)
            shape = (batch, q_part.shape[1], length)
            pairs = torch.mul(  # (B, c, L, d)
                q_part[:, :, None, :], states[:, None, :, :], out=scratch.out("pairs", q, *shape, d)
            )
            hidden = torch.add(  # (B, c, L, a)
                per_candidate[:, start : start + step, None, :],
                per_position[:, None, :, :],
                out=scratch.out("hidden", q, *shape, first.out_features),
            )
            hidden = hidden.flatten(0, 2).addmm_(pairs.flatten(0, 2), w_prod.T)
            # A copy: the last layer's output is overwritten by the next chunk.
            chunks.append(_mlp_forward(rest, hidden, scratch).view(shape).clone())
        return torch.cat(chunks, dim=1)


class SLiRec(NeuralRecommender):
    kind: ClassVar[str] = "slirec"
    config_class: ClassVar[type[SLiRecConfig]] = SLiRecConfig
    config: SLiRecConfig
    net: SLiRecNet
    generator: CoVisitation | None = None

    @classmethod
    def network(cls, config: SLiRecConfig, n_items: int) -> SLiRecNet:
        return SLiRecNet(config, n_items)

    @classmethod
    def create(cls, config: SLiRecConfig, interactions: Sequence[Interaction]) -> Self:
        model = super().create(config, interactions)
        model.generator = CoVisitation.fit(
            interactions, CoVisitConfig(window_s=config.covisit_window_s)
        )
        return model

    def warm_start(self, interactions: Sequence[Interaction]) -> Self:
        model = super().warm_start(interactions)
        # Candidates must include the new products: co-visitation refits in seconds.
        model.generator = CoVisitation.fit(
            interactions, CoVisitConfig(window_s=self.config.covisit_window_s)
        )
        return model

    def batches(
        self, data: Sequences, *, batch_size: int, generator: torch.Generator, since: float | None
    ) -> Iterator[tuple[torch.Tensor, ...]]:
        """(items, ts, now, candidates): each example's history window (B, L), the time of its
        target, and the target followed by ``negatives`` other targets of the batch (B, 1 + n);
        a negative that happens to be the target is PAD (masked in the loss)."""
        targets = data.targets(since=since)
        owner = torch.searchsorted(data.starts, targets, right=True) - 1
        lengths = (targets - data.starts[owner]).clamp(max=self.config.max_len)
        for chosen in batches_by_length(lengths, batch_size, generator):
            ends = targets[chosen]
            items, ts = data.windows(ends, int(lengths[chosen].max()))
            positive = data.items[ends]
            picks = torch.randint(
                len(ends), (len(ends), self.config.negatives), generator=generator
            )
            negatives = positive[picks]
            negatives = negatives.masked_fill(negatives == positive[:, None], PAD)
            candidates = torch.cat([positive[:, None], negatives], dim=1)
            yield items, ts, data.ts[ends], candidates

    def loss(self, batch: tuple[torch.Tensor, ...]) -> torch.Tensor:
        items, ts, now, candidates = batch
        logits = self.net.score(self.net.encode(items, ts, now), candidates)
        logits = logits.masked_fill(candidates == PAD, float("-inf"))
        return F.cross_entropy(logits, torch.zeros(len(logits), dtype=torch.int64))

    def candidates(self, histories: Sequence[History], items: torch.Tensor) -> torch.Tensor:
        if self.generator is None:
            raise RuntimeError("SLi-Rec has no candidate generator; build it with create()")
        rows = torch.zeros(len(histories), self.config.candidates, dtype=torch.int64)
        for row, history in enumerate(histories):
            seen = {item for item, _ in history}
            picked = self.generator.recommend(
                history=history, k=self.config.candidates, exclude=seen
            )
            indices = [i for i in (self.vocab.get(s.item_id) for s in picked) if i != PAD]
            rows[row, : len(indices)] = torch.tensor(indices, dtype=torch.int64)
        return rows

    def scores(
        self, items: torch.Tensor, ts: torch.Tensor, candidates: torch.Tensor | None
    ) -> torch.Tensor:
        # Serving scores right after the shopper's last action: "now" is its time.
        now = ts[:, -1]
        if candidates is None:
            candidates = torch.arange(len(self.vocab)).expand(len(items), -1)
        encoded = self.net.encode(items, ts, now)
        # Shoppers in slices: a (shopper, candidate) row carries a few hidden layers of its own.
        step = max(1, _ROWS_PER_SLICE // candidates.shape[1])
        return torch.cat(
            [
                self.net.score(tuple(part[start : start + step] for part in encoded), chunk)  # type: ignore[arg-type]
                for start, chunk in zip(
                    range(0, len(items), step), candidates.split(step), strict=True
                )
            ]
        )

    def save_extra(self, path: Path) -> None:
        if self.generator is not None:
            self.generator.save(path / "candidates")

    def load_extra(self, path: Path) -> None:
        if (path / "candidates").exists():
            self.generator = CoVisitation.load(path / "candidates")
