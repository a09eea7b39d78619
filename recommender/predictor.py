"""The model contract, loading a saved model by kind, and the batch predictor workers call."""

from __future__ import annotations

import importlib
import json
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar, Protocol

from recommender.types import Scored


class Recommender(Protocol):
    """What every model offers: rank items for one shopper, and save/load as plain files.

    ``save`` must write ``config.json`` with a ``"kind"`` key naming an entry of MODEL_KINDS,
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


# kind -> "module:class". Imported on first use: the neural models pull in torch, which takes
# seconds to import and is not needed by a process that only serves co-visitation.
MODEL_KINDS: dict[str, str] = {
    "popularity": "recommender.popularity:Popularity",
    "covisit": "recommender.covisit:CoVisitation",
    "als": "recommender.als:ALS",
    "sasrec": "recommender.sasrec:SASRec",
    "slirec": "recommender.slirec:SLiRec",
}


def model_class(kind: str) -> type[Recommender]:
    """The class saving models of ``kind``; ValueError for an unknown kind."""
    if kind not in MODEL_KINDS:
        raise ValueError(f"unknown model kind {kind!r}; known: {sorted(MODEL_KINDS)}")
    module, name = MODEL_KINDS[kind].split(":")
    cls: type[Recommender] = getattr(importlib.import_module(module), name)
    return cls


def load_model(path: Path) -> Recommender:
    """Load a model saved by ``Recommender.save`` into ``path``, whatever its kind."""
    config_path = path / "config.json"
    try:
        kind = json.loads(config_path.read_text(encoding="utf-8"))["kind"]
    except FileNotFoundError:
        raise ValueError(f"{path} is not a saved model: {config_path.name} is missing") from None
    except (KeyError, TypeError):
        raise ValueError(f"{config_path} does not say which kind of model it holds") from None
    if kind not in MODEL_KINDS:
        raise ValueError(
            f"{config_path}: unknown model kind {kind!r}; known: {sorted(MODEL_KINDS)}"
        )
    return model_class(kind).load(path)


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
    ) -> list[list[Scored]]:
        """One top-``k`` list per shopper; ``excludes[i]`` applies to ``histories[i]``."""
        if len(histories) != len(excludes):
            raise ValueError(
                f"got {len(histories)} histories but {len(excludes)} exclude sets; "
                "pass one exclude collection (possibly empty) per history"
            )
        batched = getattr(self.model, "recommend_batch", None)
        if batched is not None:
            # The neural models score a batch of shoppers in one pass.
            lists: list[list[Scored]] = batched(histories=histories, k=k, excludes=excludes)
            return lists
        return [
            self.model.recommend(history=history, k=k, exclude=exclude)
            for history, exclude in zip(histories, excludes, strict=True)
        ]
