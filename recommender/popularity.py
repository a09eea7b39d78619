"""Popularity: weighted interaction counts, optionally decayed over time.

The baseline every other model must beat, and the cold-start fallback: it ignores the shopper's
history and ranks the whole catalogue once at fit time, so serving is a walk down a list.
"""

from __future__ import annotations

import json
import math
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from recommender.types import Interaction, Scored

_SECONDS_PER_DAY = 86_400.0
_FORMAT_VERSION = 1


def _default_weights() -> dict[str, float]:
    return {"view": 1.0, "cart": 3.0, "purchase": 5.0}


@dataclass(frozen=True)
class PopularityConfig:
    """How much each interaction kind counts, and how fast old interactions fade.

    Kinds missing from ``weights`` are ignored. ``half_life_days`` None means no decay; otherwise
    an interaction that is one half-life older than the newest counted one weighs half as much.
    """

    weights: dict[str, float] = field(default_factory=_default_weights)
    half_life_days: float | None = None

    def __post_init__(self) -> None:
        for kind, weight in self.weights.items():
            if not math.isfinite(weight) or weight < 0:
                raise ValueError(f"weight for {kind!r} must be finite and >= 0, got {weight}")
        if self.half_life_days is not None and not self.half_life_days > 0:
            raise ValueError(f"half_life_days must be > 0 or None, got {self.half_life_days}")


def _rank(scores: Mapping[str, float]) -> tuple[Scored, ...]:
    # Ties broken by item id so that equal scores give the same order on every worker.
    ordered = sorted(scores.items(), key=lambda pair: (-pair[1], pair[0]))
    return tuple(Scored(item_id=item_id, score=score) for item_id, score in ordered)


@dataclass(frozen=True)
class Popularity:
    """The catalogue ranked once, best first; ``recommend`` only walks the head of the list."""

    kind: ClassVar[str] = "popularity"

    config: PopularityConfig
    # repr=False: a whole catalogue in a log line or a test failure message helps nobody.
    ranked: tuple[Scored, ...] = field(repr=False)

    def __post_init__(self) -> None:
        for before, after in zip(self.ranked, self.ranked[1:], strict=False):
            if (-before.score, before.item_id) >= (-after.score, after.item_id):
                raise ValueError("ranked must be sorted by score desc, item_id asc, no duplicates")

    @classmethod
    def from_scores(cls, *, config: PopularityConfig, scores: Mapping[str, float]) -> Popularity:
        return cls(config=config, ranked=_rank(scores))

    @classmethod
    def fit(cls, interactions: Iterable[Interaction], config: PopularityConfig) -> Popularity:
        counted = [i for i in interactions if i.interaction in config.weights]
        if config.half_life_days is None or not counted:
            decay_at = None
        else:
            # Decay is relative to the newest interaction, not the wall clock, so refitting the
            # same data gives the same model whenever it runs.
            decay_at = max(i.ts for i in counted)
        scores: dict[str, float] = {}
        for record in counted:
            weight = config.weights[record.interaction]
            if decay_at is not None and config.half_life_days is not None:
                age_days = (decay_at - record.ts) / _SECONDS_PER_DAY
                weight *= 0.5 ** (age_days / config.half_life_days)
            scores[record.item_id] = scores.get(record.item_id, 0.0) + weight
        return cls.from_scores(config=config, scores=scores)

    def recommend(
        self,
        *,
        history: Sequence[tuple[str, float]],
        k: int,
        exclude: Collection[str] = (),
    ) -> list[Scored]:
        """Top ``k`` items not in ``exclude``.

        ``history`` is unused: popularity is the same for everyone, but the contract has it.
        """
        if k < 0:
            raise ValueError(f"k must be >= 0, got {k}")
        excluded = exclude if isinstance(exclude, (set, frozenset)) else set(exclude)
        picked: list[Scored] = []
        # Visits at most k + len(exclude) entries: each skipped entry is a distinct excluded item.
        for entry in self.ranked:
            if len(picked) >= k:
                break
            if entry.item_id not in excluded:
                picked.append(entry)
        return picked

    def score(self, *, history: Sequence[tuple[str, float]], items: Sequence[str]) -> list[float]:
        """Each item's score (0 for one never seen); ``history`` is unused, as in ``recommend``."""
        scores = self._scores()
        return [scores.get(item, 0.0) for item in items]

    def top_up(
        self, picked: list[Scored], *, k: int, exclude: Collection[str], score: float = 0.0
    ) -> list[Scored]:
        """``picked`` filled to ``k`` with the most popular items neither in it nor in
        ``exclude``, each scored ``score``: below every score of the model that picked them, so
        popularity only fills the tail of its list."""
        if len(picked) >= k:
            return picked
        taken = {*exclude, *(s.item_id for s in picked)}
        return picked + [
            Scored(item_id=s.item_id, score=score)
            for s in self.recommend(history=(), k=k - len(picked), exclude=taken)
        ]

    def break_ties(self, scores: Mapping[str, float], items: Sequence[str]) -> list[float]:
        """Each item's score in ``scores`` (0 when absent) plus its popularity, scaled to at most
        1e-6: popularity orders only the items the model scores alike."""
        popular = self.score(history=(), items=items)
        top = max(popular, default=0.0) or 1.0
        return [
            scores.get(item, 0.0) + 1e-6 * p / top for item, p in zip(items, popular, strict=True)
        ]

    def _scores(self) -> dict[str, float]:
        cached: dict[str, float] | None = self.__dict__.get("_score_map")
        if cached is None:
            cached = {entry.item_id: entry.score for entry in self.ranked}
            object.__setattr__(self, "_score_map", cached)
        return cached

    def save(self, path: Path) -> None:
        """Write config.json, vocab.json and scores.json into the directory ``path``."""
        path.mkdir(parents=True, exist_ok=True)
        config = {
            "kind": self.kind,
            "format_version": _FORMAT_VERSION,
            "weights": self.config.weights,
            "half_life_days": self.config.half_life_days,
        }
        _write_json(path / "config.json", config)
        _write_json(path / "vocab.json", [entry.item_id for entry in self.ranked])
        _write_json(path / "scores.json", [entry.score for entry in self.ranked])

    @classmethod
    def load(cls, path: Path) -> Popularity:
        config = json.loads((path / "config.json").read_text(encoding="utf-8"))
        if config.get("kind") != cls.kind:
            raise ValueError(f"{path} holds a {config.get('kind')!r} model, not {cls.kind!r}")
        if config.get("format_version") != _FORMAT_VERSION:
            raise ValueError(f"{path}: unsupported format_version {config.get('format_version')}")
        vocab = json.loads((path / "vocab.json").read_text(encoding="utf-8"))
        scores = json.loads((path / "scores.json").read_text(encoding="utf-8"))
        if len(vocab) != len(scores) or len(set(vocab)) != len(vocab):
            raise ValueError(f"{path}: vocab.json and scores.json do not line up")
        model_config = PopularityConfig(
            weights={str(k): float(v) for k, v in config["weights"].items()},
            half_life_days=config["half_life_days"],
        )
        return cls.from_scores(
            config=model_config,
            scores={str(item): float(score) for item, score in zip(vocab, scores, strict=True)},
        )


def _write_json(path: Path, payload: Any) -> None:
    # allow_nan=False: a NaN score would round-trip as invalid JSON for other readers.
    path.write_text(json.dumps(payload, allow_nan=False), encoding="utf-8")
