"""What the neural models read: an item vocabulary and each shopper's sequence as index arrays.

Index 0 is padding everywhere; item ``i`` of the vocabulary has index ``i + 1``. Sequences are
left-padded, so the most recent interaction is always the last column whatever the length.
Time features are in minutes (``log1p(minutes)``): product views come seconds to minutes apart,
so the one-day unit and half-day floor of the published SLi-Rec code would make them all equal.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import torch

from recommender.types import Interaction

PAD = 0


@dataclass(frozen=True)
class Vocabulary:
    """Item ids in index order (index = position + 1); most frequent first when built."""

    items: tuple[str, ...]
    _index: dict[str, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_index", {item: n + 1 for n, item in enumerate(self.items)})

    @classmethod
    def build(cls, interactions: Iterable[Interaction]) -> Vocabulary:
        counts = Counter(it.item_id for it in interactions)
        return cls(tuple(sorted(counts, key=lambda item: (-counts[item], item))))

    def extend(self, interactions: Iterable[Interaction]) -> Vocabulary:
        """This vocabulary plus the new items, appended: every known item keeps its index, which
        is what lets a warm start reuse the trained embedding rows."""
        new = Vocabulary.build(it for it in interactions if it.item_id not in self._index)
        return Vocabulary(self.items + new.items)

    def __len__(self) -> int:
        """Rows an embedding table needs: the items plus padding."""
        return len(self.items) + 1

    def get(self, item_id: str) -> int:
        """The item's index, or PAD when unknown."""
        return self._index.get(item_id, PAD)

    def item(self, index: int) -> str:
        return self.items[index - 1]


def minutes_feature(seconds: torch.Tensor) -> torch.Tensor:
    """log1p of a non-negative duration in minutes: the time input of the time-aware models."""
    return torch.log1p(seconds.clamp(min=0.0) / 60.0)


@dataclass(frozen=True)
class Sequences:
    """Every shopper's interactions with known items, time-ordered, as one flat array.

    Shopper ``u`` owns ``items[starts[u]:starts[u + 1]]``. Flat storage lets a batch of
    training windows be cut out with one vectorised gather instead of a Python loop.
    """

    items: torch.Tensor  # int64 (N,)
    ts: torch.Tensor  # float64 (N,) unix seconds
    starts: torch.Tensor  # int64 (U + 1,)

    @classmethod
    def build(cls, interactions: Iterable[Interaction], vocab: Vocabulary) -> Sequences:
        by_user: dict[str, list[tuple[float, int]]] = defaultdict(list)
        for it in interactions:
            index = vocab.get(it.item_id)
            if index != PAD:
                by_user[it.user_id].append((it.ts, index))
        items: list[int] = []
        ts: list[float] = []
        starts = [0]
        for user in sorted(by_user):
            # Stable: equal timestamps keep the file's order.
            for t, index in sorted(by_user[user], key=lambda pair: pair[0]):
                items.append(index)
                ts.append(t)
            starts.append(len(items))
        return cls(
            items=torch.tensor(items, dtype=torch.int64),
            ts=torch.tensor(ts, dtype=torch.float64),
            starts=torch.tensor(starts, dtype=torch.int64),
        )

    @property
    def users(self) -> int:
        return len(self.starts) - 1

    def targets(self, *, since: float | None = None) -> torch.Tensor:
        """Flat positions that have at least one interaction before them in their sequence (the
        training targets), optionally only those at or after ``since``."""
        owner_start = torch.repeat_interleave(self.starts[:-1], self.starts.diff())
        positions = torch.arange(len(self.items))
        keep = positions > owner_start
        if since is not None:
            keep &= self.ts >= since
        return positions[keep]

    def windows(self, ends: torch.Tensor, length: int) -> tuple[torch.Tensor, torch.Tensor]:
        """For each flat position in ``ends``, the ``length`` interactions before it (excluded)
        from the shopper of the interaction just before it, left-padded:
        (items (B, L) int64, ts (B, L) float64; 0 is padding)."""
        # The owner of the position before `end`: `end` itself may be the next shopper's first.
        owner = torch.searchsorted(self.starts, ends - 1, right=True) - 1
        first = self.starts[owner]
        offsets = torch.arange(-length, 0)
        index = ends[:, None] + offsets[None, :]
        valid = index >= first[:, None]
        index = index.clamp(min=0)
        items = torch.where(valid, self.items[index], PAD)
        ts = torch.where(valid, self.ts[index], 0.0)
        return items, ts


def batches_by_length(
    lengths: torch.Tensor, batch_size: int, generator: torch.Generator
) -> list[torch.Tensor]:
    """Indices of examples with these ``lengths``, shuffled into batches of similar length
    (sorted within shuffled pools of 64 batches), in shuffled order. Most shoppers have a
    handful of interactions; a batch cut to its longest row costs a fraction of one padded
    to max_len."""
    if len(lengths) == 0:
        return []
    order = torch.randperm(len(lengths), generator=generator)
    batches: list[torch.Tensor] = []
    for pool in order.split(batch_size * 64):
        batches += pool[torch.argsort(lengths[pool], stable=True)].split(batch_size)
    return [batches[n] for n in torch.randperm(len(batches), generator=generator).tolist()]


def trim(items: torch.Tensor, ts: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Drop leading columns that are padding in every row (left padding keeps them in front)."""
    real = (items != PAD).any(dim=0)
    first = int(real.float().argmax()) if bool(real.any()) else items.shape[1] - 1
    return items[:, first:], ts[:, first:]


def encode_histories(
    histories: Sequence[Sequence[tuple[str, float]]], vocab: Vocabulary, length: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """Shoppers' histories (item id, unix seconds) as left-padded index and time arrays of the
    last ``length`` known items each. Unknown items are skipped: the model has no row for them."""
    items = np.zeros((len(histories), length), dtype=np.int64)
    ts = np.zeros((len(histories), length), dtype=np.float64)
    for row, history in enumerate(histories):
        known = [(t, vocab.get(i)) for i, t in sorted(history, key=lambda h: h[1])]
        known = [(t, index) for t, index in known if index != PAD][-length:]
        if known:
            ts[row, length - len(known) :] = [t for t, _ in known]
            items[row, length - len(known) :] = [index for _, index in known]
    return torch.from_numpy(items), torch.from_numpy(ts)
