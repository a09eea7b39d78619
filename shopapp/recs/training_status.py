"""The latest retraining's progress, as the dashboard shows it: written when the merchant queues
a retraining and by the retraining task as it goes, read by the Models page and its poll.

One value per shop, since each shop's models are trained on its own history (docs/architecture.md
§3.5). Its key and lifetime are declared in recs/keys.py.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from typing import Any, Literal

from shopapp.recs.keys import TRAINING_STATUS_TTL_S, training_status_key
from shopapp.redis import get_redis

TrainingState = Literal["queued", "running", "finished"]


def training_status_set(
    *,
    shop: str,
    state: TrainingState,
    step: str | None = None,
    progress: float | None = None,
    done: Sequence[str] | None = None,
) -> None:
    """Replace the status: `step` names what runs now, `progress` goes from 0 to 1, `done` lists
    one line per kind already retrained. What is not given is left out, not nulled, so the page
    shows only what the writer knew."""
    status: dict[str, Any] = {"state": state}
    if step is not None:
        status["step"] = step
    if progress is not None:
        status["progress"] = progress
    if done is not None:
        status["done"] = list(done)
    status["at"] = time.time()
    get_redis().set(training_status_key(shop), json.dumps(status), ex=TRAINING_STATUS_TTL_S)


def training_status_get(*, shop: str) -> dict[str, Any] | None:
    """The latest status ({"state", "at", and what its writer gave}), or None if there is none."""
    raw = get_redis().get(training_status_key(shop))
    return json.loads(raw) if raw else None
