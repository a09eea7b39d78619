"""Our own self-describing event schemas (schemas/ at the repository root), as validators.

Iglu schemas are JSON Schema draft 4 with a `self` block; Draft4Validator reads them as they are.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

from jsonschema import Draft4Validator

SCHEMA_ROOT = Path(__file__).resolve().parents[2] / "schemas"


@functools.cache
def _validators() -> dict[str, Draft4Validator]:
    found = {}
    for path in SCHEMA_ROOT.glob("*/*/jsonschema/*"):
        vendor, name, _, version = path.relative_to(SCHEMA_ROOT).parts
        found[f"{vendor}/{name}/{version}"] = Draft4Validator(json.loads(path.read_text()))
    return found


def schema_errors(*, schema: str, version: str, data: Any) -> list[str] | None:
    """Validation errors of `data` (empty when valid), or None when we publish no such schema."""
    validator = _validators().get(f"{schema}/{version}")
    if validator is None:
        return None
    return sorted(
        f"{'/'.join(map(str, e.path)) or '(root)'}: {e.message}"
        for e in validator.iter_errors(data)
    )
