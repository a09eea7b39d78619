"""What a retraining decides for a shop (recs/training.py): every candidate kind's figures on the
shop's holdout day, and the kind that serves, with why. Stored as `ModelDecision` rows and shown
on the Models page; `as_dict` is what the operator's `models_retrain` prints."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class Candidate:
    """One kind's part in a retraining: the new version and its kind's champion afterwards."""

    kind: str
    version: str  # the challenger registered by this retraining
    ndcg_at_10: float  # of the challenger on the holdout
    hr_at_10: float
    champion_version: str  # the kind's champion after the gate (the challenger if promoted)
    champion_ndcg_at_10: float  # what serving this kind would score on the holdout
    promoted: bool
    warm_start: bool
    seconds: float


@dataclass(frozen=True, slots=True)
class Decision:
    shop: str
    serving_kind: str  # "": nothing to serve
    serving_version: str
    reason: str
    cases: int
    candidates: list[Candidate] = field(default_factory=list)
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "shop": self.shop,
            "serving": {"kind": self.serving_kind, "version": self.serving_version}
            if self.serving_kind
            else None,
            "reason": self.reason,
            "cases": self.cases,
            "candidates": [asdict(c) for c in self.candidates],
            "seconds": round(self.seconds, 2),
        }
