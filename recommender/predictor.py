"""The model contract, loading a saved model by kind, and the batch predictor workers call."""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar, Protocol

from recommender.kinds import kind_get
from recommender.types import Scored


class Recommender(Protocol):
    """What every model offers: rank items for one shopper, and save/load as plain files.

    ``save`` must write ``config.json`` with a ``"kind"`` key naming an entry of recommender.kinds,
    so that ``load_model`` can find the class again.
    """

    kind: ClassVar[str]

    def recommend(
        self,
        *,
        history: Sequence[tuple[str, float]],
        k: int,
        exclude: Collection[str] = (),
    ) -> list[Scored]: ...

    def save(self, path: Path) -> None: ...

    @classmethod
    def load(cls, path: Path) -> Recommender: ...


def load_model(path: Path) -> Recommender:
    """Load a model saved by ``Recommender.save`` into ``path``, whatever its kind."""
    config_path = path / "config.json"
    try:
        kind = json.loads(config_path.read_text(encoding="utf-8"))["kind"]
    except FileNotFoundError:
        raise ValueError(f"{path} is not a saved model: {config_path.name} is missing") from None
    except (KeyError, TypeError):
        raise ValueError(f"{config_path} does not say which kind of model it holds") from None
    try:
        spec = kind_get(kind)
    except ValueError as exc:
        raise ValueError(f"{config_path}: {exc}") from None
    return spec.model_class().load(path)


@dataclass(frozen=True, slots=True)
class Predictor:
    """A loaded model plus where it came from (registered name and version), for serving."""

    model: Recommender
    version: str
    name: str

    def recommend_batch(
        self,
        *,
        histories: Sequence[Sequence[tuple[str, float]]],
        k: int,
        excludes: Sequence[Collection[str]],
        shared_exclude: Collection[str] = frozenset(),
    ) -> list[list[Scored]]:
        """One top-``k`` list per shopper; ``excludes[i]`` applies to ``histories[i]`` and
        ``shared_exclude`` to every one of them (a shop's exclusions: a neural model masks them
        once per batch, and reuses the mask while it is given the same frozenset)."""
        if len(histories) != len(excludes):
            raise ValueError(
                f"got {len(histories)} histories but {len(excludes)} exclude sets; "
                "pass one exclude collection (possibly empty) per history"
            )
        batched = getattr(self.model, "recommend_batch", None)
        if batched is not None:
            # The neural models score a batch of shoppers in one pass.
            lists: list[list[Scored]] = batched(
                histories=histories, k=k, excludes=excludes, shared_exclude=shared_exclude
            )
            return lists
        shared = set(shared_exclude)
        return [
            self.model.recommend(history=history, k=k, exclude=shared.union(exclude))
            for history, exclude in zip(histories, excludes, strict=True)
        ]
