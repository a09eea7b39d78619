"""The Snowplow tracker protocol as it arrives: the `payload_data` envelope (POST) and `/i` (GET).

This layer only checks the envelope and decodes the JSON/base64 fields; what an event means is the
normaliser's business (normalise.py). Reference: docs/collector-protocol.md.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from shopapp.events.boundedjson import JsonRejected, JsonSyntaxError, json_parse, text_problem

PAYLOAD_DATA_RE = re.compile(
    r"^iglu:com\.snowplowanalytics\.snowplow/payload_data/jsonschema/1-0-[0-9]+$"
)
IGLU_URI_RE = re.compile(
    r"^iglu:([a-zA-Z0-9-_.]+)/([a-zA-Z0-9-_]+)/jsonschema/([0-9]+-[0-9]+-[0-9]+)$"
)
# The collector's own body limit (settings.COLLECTOR_MAX_BODY_BYTES) is what callers pass.
PAYLOAD_MAX_BYTES = 1024 * 1024
# The longest `ue_pr`/`co` (JSON) or `ue_px`/`cx` (base64 JSON) one event may carry: an impression
# of 50 items (the schema's most) is under 4 KB, a product entity about 200 B.
JSON_FIELD_MAX_CHARS = 64 * 1024


class PayloadError(ValueError):
    """The request as a whole is not a tracker payload: answered 400, nothing is accepted."""


class EventError(ValueError):
    """One event of a batch is invalid: it is rejected with this reason, the rest goes on."""


def payload_parse(
    body: bytes, *, max_events: int, max_bytes: int = PAYLOAD_MAX_BYTES
) -> list[dict[str, Any]]:
    """The events of a tp2 POST body. Their values are checked per event, not here."""
    try:
        doc = json_parse(body, max_chars=max_bytes)
    except JsonRejected as exc:
        raise PayloadError(f"body {exc}") from None
    if not isinstance(doc, dict) or not PAYLOAD_DATA_RE.match(str(doc.get("schema", ""))):
        raise PayloadError("body is not a payload_data self-describing JSON")
    data = doc.get("data")
    if not isinstance(data, list) or not data:
        raise PayloadError("payload_data.data must be a non-empty array")
    if len(data) > max_events:
        raise PayloadError(f"too many events in one request ({len(data)} > {max_events})")
    return data


def query_event(params: Mapping[str, str]) -> dict[str, str]:
    """One event from the query parameters of a GET /i: a parameter no store can hold (NUL, a
    lone surrogate) refuses the request, as it would in a POST body."""
    for key, value in params.items():
        problem = text_problem(key) or text_problem(value)
        if problem:
            raise PayloadError(f"query parameter {key[:32]!r} has {problem}")
    return dict(params)


def event_fields(raw: Any) -> dict[str, str]:
    """One event's parameters; payload_data requires every value to be a string."""
    if not isinstance(raw, dict):
        raise EventError("event is not an object")
    for key, value in raw.items():
        if not isinstance(value, str):
            raise EventError(f"parameter {key!r} is not a string")
    return raw


def _b64decode(text: str) -> bytes:
    # Trackers disagree: JS strips the padding of base64url, Python pads it, docs use standard.
    padded = text + "=" * (-len(text) % 4)
    try:
        return base64.urlsafe_b64decode(padded.replace("+", "-").replace("/", "_"))
    except (binascii.Error, ValueError) as exc:
        raise EventError(f"invalid base64: {exc}") from None


def json_field(fields: Mapping[str, str], plain: str, encoded: str) -> Any | None:
    """Decode a field that comes either as JSON (`ue_pr`, `co`) or base64 JSON (`ue_px`, `cx`),
    within JSON_FIELD_MAX_CHARS and the bounded loader's limits."""
    name = plain if plain in fields else encoded
    if name not in fields:
        return None
    value = fields[name]
    if len(value) > JSON_FIELD_MAX_CHARS:
        raise EventError(f"{name} is longer than {JSON_FIELD_MAX_CHARS} characters")
    text: str | bytes = _b64decode(value) if name == encoded else value
    try:
        return json_parse(text, max_chars=JSON_FIELD_MAX_CHARS)
    except JsonSyntaxError:
        raise EventError(f"{plain}/{encoded} is not valid JSON") from None
    except JsonRejected as exc:
        raise EventError(f"{name} {exc}") from None


@dataclass(frozen=True, slots=True)
class SelfDescribing:
    schema: str  # `vendor/name`, without the version
    version: str  # `model-revision-addition`
    data: Any


def self_describing(doc: Any, *, what: str) -> SelfDescribing:
    if not isinstance(doc, dict) or "schema" not in doc or "data" not in doc:
        raise EventError(f"{what} is not self-describing JSON")
    match = IGLU_URI_RE.match(str(doc["schema"]))
    if not match:
        raise EventError(f"{what} has an invalid schema URI")
    return SelfDescribing(f"{match.group(1)}/{match.group(2)}", match.group(3), doc["data"])
