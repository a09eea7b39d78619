"""What every neural model shares: vocabulary, serving (top-k with exclusions), saving, warm start.

A model subclass supplies its network, how it cuts training batches and computes their loss, and
how it scores candidates. The trainer (recommender.trainer) drives any of them the same way.

Scoring over the catalogue: a model either scores every item at once (``candidates`` returns
None: SASRec's dot product with all item embeddings) or names a candidate set per shopper that
it then re-ranks (SLi-Rec, a pointwise scorer, re-ranks co-visitation and popularity candidates).
"""

from __future__ import annotations

import dataclasses
import json
from abc import ABC, abstractmethod
from collections.abc import Collection, Iterator, Sequence
from pathlib import Path
from typing import Any, ClassVar, Self

import torch
from torch import nn

from recommender.sequences import PAD, Sequences, Vocabulary, encode_histories, trim
from recommender.types import Interaction, Scored

_FORMAT_VERSION = 1
History = Sequence[tuple[str, float]]


class NeuralRecommender(ABC):
    kind: ClassVar[str]
    config_class: ClassVar[type[Any]]

    def __init__(self, *, config: Any, vocab: Vocabulary, net: nn.Module) -> None:
        self.config = config
        self.vocab = vocab
        self.net = net
        self.net.eval()
        self._shared_cache: tuple[frozenset[str], torch.Tensor] | None = None

    # -- what a model defines --------------------------------------------------------------

    @classmethod
    @abstractmethod
    def network(cls, config: Any, n_items: int) -> nn.Module:
        """A freshly initialised network for a vocabulary of ``n_items`` rows (padding included)."""

    @abstractmethod
    def batches(
        self, data: Sequences, *, batch_size: int, generator: torch.Generator, since: float | None
    ) -> Iterator[Any]:
        """One epoch of training batches, shuffled by ``generator``; with ``since``, only targets
        at or after that time are learned (a warm start's new interactions)."""

    @abstractmethod
    def loss(self, batch: Any) -> torch.Tensor:
        """The mean training loss of a batch (the network is in training mode)."""

    @abstractmethod
    def scores(
        self, items: torch.Tensor, ts: torch.Tensor, candidates: torch.Tensor | None
    ) -> torch.Tensor:
        """Scores (B, C) of ``candidates`` (B, C) for left-padded histories (B, L), or (B, V)
        for the whole vocabulary when ``candidates`` is None. Higher is better."""

    def candidates(self, histories: Sequence[History], items: torch.Tensor) -> torch.Tensor | None:
        """Items to score per shopper (B, C; PAD marks unused slots); None scores them all."""
        return None

    # -- shared ------------------------------------------------------------------------------

    @classmethod
    def create(cls, config: Any, interactions: Sequence[Interaction]) -> Self:
        """An untrained model over the items of ``interactions``."""
        vocab = Vocabulary.build(interactions)
        return cls(config=config, vocab=vocab, net=cls.network(config, len(vocab)))

    def warm_start(self, interactions: Sequence[Interaction]) -> Self:
        """A copy of this model whose vocabulary also holds the new items of ``interactions``.

        Every trained weight is carried over; tables indexed by item get new rows, initialised
        as a fresh network would, for the new items only. Training it for a few epochs on new
        data is the daily incremental update.
        """
        vocab = self.vocab.extend(interactions)
        net = self.network(self.config, len(vocab))
        state = net.state_dict()
        for name, old in self.net.state_dict().items():
            new = state[name]
            if old.shape == new.shape:
                state[name] = old.clone()
            elif old.dim() == new.dim() and old.shape[1:] == new.shape[1:]:
                # An item-indexed table: the first len(old) rows are the same items.
                state[name][: old.shape[0]] = old
            else:
                raise ValueError(f"cannot carry {name} from {tuple(old.shape)} to {new.shape}")
        net.load_state_dict(state)
        return type(self)(config=self.config, vocab=vocab, net=net)

    def sequences(self, interactions: Sequence[Interaction]) -> Sequences:
        return Sequences.build(interactions, self.vocab)

    @torch.no_grad()
    def recommend_batch(
        self,
        *,
        histories: Sequence[History],
        k: int,
        excludes: Sequence[Collection[str]],
        shared_exclude: Collection[str] = frozenset(),
    ) -> list[list[Scored]]:
        """Top ``k`` per shopper, never an item of their history, of ``excludes[i]`` or of
        ``shared_exclude`` (one mask for the whole batch)."""
        if k < 0:
            raise ValueError(f"k must be >= 0, got {k}")
        if not histories or k == 0:
            return [[] for _ in histories]
        items, ts = trim(*encode_histories(histories, self.vocab, self.config.max_len))
        candidates = self.candidates(histories, items)
        scores = self.scores(items, ts, candidates).float()
        # Column c of `scores` is item `index[b, c]`.
        index = (
            torch.arange(len(self.vocab)).expand(len(histories), -1)
            if candidates is None
            else candidates
        )
        shared = self._shared_mask(shared_exclude)
        banned = (index == PAD) | shared[index]
        for row, (history, exclude) in enumerate(zip(histories, excludes, strict=True)):
            unwanted = {*exclude, *(item for item, _ in history)}
            rows = [i for i in map(self.vocab.get, unwanted) if i != PAD]
            if not rows:
                continue
            if candidates is None:
                banned[row, rows] = True
            else:
                banned[row] |= torch.isin(index[row], torch.tensor(rows))
        scores = scores.masked_fill(banned, float("-inf"))
        top = torch.topk(scores, min(k, scores.shape[1]), dim=1)
        out = []
        for row in range(len(histories)):
            picked = [
                Scored(item_id=self.vocab.item(int(index[row, c])), score=float(s))
                for s, c in zip(top.values[row].tolist(), top.indices[row].tolist(), strict=True)
                if s != float("-inf")
            ]
            out.append(picked)
        return out

    def _shared_mask(self, exclude: Collection[str]) -> torch.Tensor:
        """(V,) True for the vocabulary rows of ``exclude``; the last frozenset's is kept, since
        a worker passes the same one (recs/exclusions.py) until the shop's catalogue changes."""
        cached = self._shared_cache
        if cached is not None and cached[0] is exclude:
            return cached[1]
        mask = torch.zeros(len(self.vocab), dtype=torch.bool)
        rows = [i for i in map(self.vocab.get, exclude) if i != PAD]
        mask[rows] = True
        if isinstance(exclude, frozenset):
            self._shared_cache = (exclude, mask)
        return mask

    def recommend(self, *, history: History, k: int, exclude: Collection[str] = ()) -> list[Scored]:
        return self.recommend_batch(histories=[history], k=k, excludes=[exclude])[0]

    @torch.no_grad()
    def score(self, *, history: History, items: Sequence[str]) -> list[float]:
        """The model's score of each item for this shopper; unknown items score -inf."""
        encoded, ts = trim(*encode_histories([history], self.vocab, self.config.max_len))
        candidates = torch.tensor([[self.vocab.get(i) for i in items]], dtype=torch.int64)
        scores = self.scores(encoded, ts, candidates)[0].float()
        scores = scores.masked_fill(candidates[0] == PAD, float("-inf"))
        return [float(s) for s in scores]

    def save(self, path: Path) -> None:
        path.mkdir(parents=True, exist_ok=True)
        config = {
            "kind": self.kind,
            "format_version": _FORMAT_VERSION,
            "config": dataclasses.asdict(self.config),
        }
        (path / "config.json").write_text(json.dumps(config), encoding="utf-8")
        (path / "items.json").write_text(json.dumps(list(self.vocab.items)), encoding="utf-8")
        torch.save(self.net.state_dict(), path / "weights.pt")
        self.save_extra(path)

    def save_extra(self, path: Path) -> None:  # noqa: B027 (optional hook)
        """Anything besides the network a subclass needs to serve (its candidate generator)."""

    @classmethod
    def load(cls, path: Path) -> Self:
        saved = json.loads((path / "config.json").read_text(encoding="utf-8"))
        if saved.get("kind") != cls.kind or saved.get("format_version") != _FORMAT_VERSION:
            raise ValueError(f"{path} does not hold a {cls.kind} model of format {_FORMAT_VERSION}")
        config = cls.config_class(**_tuples(saved["config"]))
        vocab = Vocabulary(tuple(json.loads((path / "items.json").read_text(encoding="utf-8"))))
        net = cls.network(config, len(vocab))
        # weights_only: loading a model never runs code from the file.
        net.load_state_dict(torch.load(path / "weights.pt", weights_only=True))
        model = cls(config=config, vocab=vocab, net=net)
        model.load_extra(path)
        return model

    def load_extra(self, path: Path) -> None:  # noqa: B027 (optional hook)
        """Counterpart of ``save_extra``."""


def _tuples(config: dict[str, Any]) -> dict[str, Any]:
    # JSON turns the configs' tuples (layer sizes) into lists; frozen dataclasses want tuples.
    return {k: tuple(v) if isinstance(v, list) else v for k, v in config.items()}
