"""JSON from outside, read within stated limits: the one loader for every untrusted JSON text.

`json.loads` alone lets a stranger choose the failure: a body nested ~1,000 deep raises
RecursionError, a 5,000-digit number raises ValueError (Python's int max-str-digits), and what
parses may still be unstorable (`\\u0000`: PostgreSQL text cannot hold NUL; `\\ud800`: a lone
surrogate cannot be encoded to UTF-8) or unusable downstream (NaN, Infinity, a depth that makes
the next recursive consumer fail). Here every such input is one `JsonRejected` with the reason,
which each caller turns into its own answer (a 400 for a request, a rejection for one event).
"""

from __future__ import annotations

import json
import math
import re
from itertools import accumulate
from typing import Any

# Every real document we read is shallow (a tp2 body is 3 levels, a Shopify order under 10): 32
# leaves room for senders' extras while staying far from the interpreter's recursion limit, so
# no recursive consumer after us (jsonschema, json.dumps, Django's JSONField) can be made to fail.
MAX_DEPTH = 32
# The longest number token: a 64-bit id has 20 characters, a double's repr at most 24.
MAX_NUMBER_CHARS = 40

_NOT_BRACKET_RE = re.compile(r"[^\[\]{}]++")
_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}
# An escape that may decode to NUL or to a surrogate (a pair, or a lone one).
_SUSPECT_ESCAPE_RE = re.compile(r"\\u(?:0000|[dD][89a-fA-F][0-9a-fA-F]{2})")
_NUL = "\x00"
_SURROGATE_RE = re.compile("[\ud800-\udfff]")


class JsonRejected(ValueError):
    """The text is not JSON we accept. The message is a predicate for the caller to prefix with
    what was read ("body is nested deeper than 32 levels")."""


class JsonSyntaxError(JsonRejected):
    """Not JSON at all (as opposed to JSON beyond a limit)."""


class JsonLimitExceeded(JsonRejected):
    """Longer, deeper or with longer numbers than the limits: the kind of text that makes a plain
    json.loads raise (RecursionError, int's max-str-digits ValueError), so one to hand to no
    other parser either."""


def json_parse(data: str | bytes, *, max_chars: int, max_depth: int = MAX_DEPTH) -> Any:
    """The JSON value of `data` (bytes must be UTF-8), or JsonRejected with the reason."""
    if len(data) > max_chars:
        raise JsonLimitExceeded(f"is longer than {max_chars} characters")
    if isinstance(data, bytes):
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise JsonRejected(f"is not JSON (invalid UTF-8 at byte {exc.start})") from None
    else:
        text = data
    _depth_check(text, max_depth)
    try:
        doc = json.loads(text, parse_int=_int, parse_float=_float, parse_constant=_no_constant)
    except json.JSONDecodeError as exc:
        raise JsonSyntaxError(f"is not JSON ({exc.msg}: char {exc.pos})") from None
    if _suspect(text):
        _strings_check(doc)
    return doc


def text_problem(text: str) -> str | None:
    """What makes a text unstorable ("a NUL character (\\u0000)"), or None when nothing does."""
    if _NUL in text:
        return "a NUL character (\\u0000)"
    if _SURROGATE_RE.search(text):
        return "a lone surrogate (\\ud800-\\udfff)"
    return None


def _depth_check(text: str, max_depth: int) -> None:
    """Reject nesting deeper than max_depth without recursing: drop the strings, keep only the
    brackets, and take the deepest running count. All of it is C-level string work.

    Once `\\\\` and `\\"` are gone (replaced left to right, as JSON lexes escapes), every `"`
    delimits a string, so the even pieces of a split on it are what lies outside strings. For
    the prefix json.loads reads before any error, this lexing agrees with its own.
    """
    if text.count("[") + text.count("{") <= max_depth:
        return  # too few brackets to nest deeper, strings or not
    plain = text.replace("\\\\", "").replace('\\"', "") if "\\" in text else text
    skeleton = _NOT_BRACKET_RE.sub("", "".join(plain.split('"')[::2]))
    if len(skeleton) > max_depth and max(accumulate(map(_STEP.__getitem__, skeleton))) > max_depth:
        raise JsonLimitExceeded(f"is nested deeper than {max_depth} levels")


def _int(token: str) -> int:
    if len(token) > MAX_NUMBER_CHARS:
        raise JsonLimitExceeded(f"has a number longer than {MAX_NUMBER_CHARS} characters")
    return int(token)


def _float(token: str) -> float:
    if len(token) > MAX_NUMBER_CHARS:
        raise JsonLimitExceeded(f"has a number longer than {MAX_NUMBER_CHARS} characters")
    value = float(token)
    if not math.isfinite(value):
        raise JsonRejected(f"has a number out of range ({token})")
    return value


def _no_constant(token: str) -> Any:
    raise JsonRejected(f"has {token}, which JSON does not allow")


def _suspect(text: str) -> bool:
    """Whether a decoded string may hold NUL or a lone surrogate: only then are they walked."""
    if "\\u" in text and _SUSPECT_ESCAPE_RE.search(text):
        return True
    return _NUL in text or (not text.isascii() and bool(_SURROGATE_RE.search(text)))


def _strings_check(doc: Any) -> None:
    """Every key and string of doc storable; iterative, as the depth is bounded but not small."""
    stack = [doc]
    while stack:
        value = stack.pop()
        if isinstance(value, str):
            problem = text_problem(value)
            if problem:
                raise JsonRejected(f"has a string with {problem}")
        elif isinstance(value, dict):
            stack.extend(value.keys())
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
