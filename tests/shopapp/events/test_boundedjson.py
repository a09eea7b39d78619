"""The bounded JSON loader: what JSON means it returns, anything beyond a limit it refuses with
the reason, and no input makes it raise anything else."""

from __future__ import annotations

import re

import pytest

from shopapp.events.boundedjson import (
    MAX_DEPTH,
    JsonRejected,
    JsonSyntaxError,
    json_parse,
    text_problem,
)


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        ("[" * 1000 + "]" * 1000, "is nested deeper than 32 levels"),
        ('{"a": ' * 5000 + "1" + "}" * 5000, "is nested deeper than 32 levels"),
        ("[" * 100_000, "is nested deeper than 32 levels"),  # never closed
        ("[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1), "is nested deeper than 32 levels"),
        # A string cannot hide brackets from the count, nor an escaped quote end a string early.
        ('["\\\\"' + ", [" * 40 + "]" * 40 + "]", "is nested deeper than 32 levels"),
        ("9" * 5000, "has a number longer than 40 characters"),
        ("[1." + "5" * 5000 + "]", "has a number longer than 40 characters"),
        ("1e" + "9" * 5000, "has a number longer than 40 characters"),
        ("[1e400]", "has a number out of range (1e400)"),
        ("NaN", "has NaN, which JSON does not allow"),
        ('{"x": -Infinity}', "has -Infinity, which JSON does not allow"),
        ('{"id": "a\\u0000b"}', "has a string with a NUL character (\\u0000)"),
        ('{"\\u0000": 1}', "has a string with a NUL character (\\u0000)"),
        ('["\\ud800"]', "has a string with a lone surrogate (\\ud800-\\udfff)"),
        ('"\\udfff\\ud800"', "has a string with a lone surrogate (\\ud800-\\udfff)"),
        (b'["\xff"]', "is not JSON (invalid UTF-8 at byte 2)"),
        (b'"\xed\xa0\x80"', "is not JSON (invalid UTF-8 at byte 1)"),  # an encoded surrogate
        ("x" * 101, "is longer than 100 characters"),
    ],
)
def test_beyond_a_limit_is_refused_with_the_reason(data: str | bytes, reason: str) -> None:
    with pytest.raises(JsonRejected, match=rf"^{re.escape(reason)}$"):
        json_parse(data, max_chars=100 if data == "x" * 101 else 10**6)


def test_not_json_is_a_syntax_error_of_its_own() -> None:
    with pytest.raises(JsonSyntaxError, match=r"^is not JSON \(Expecting value: char 0\)$"):
        json_parse(b"nope", max_chars=100)
    with pytest.raises(JsonSyntaxError, match="Unterminated string"):
        json_parse('"' + '\\"' * 100_000, max_chars=10**6)  # stays linear, too


def _nested(depth: int) -> list[object]:
    value: list[object] = []
    for _ in range(depth - 1):
        value = [value]
    return value


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("[" * MAX_DEPTH + "]" * MAX_DEPTH, _nested(MAX_DEPTH)),
        ('["' + "[" * 500 + '"]', ["[" * 500]),  # brackets in strings are text
        ('"\\ud83d\\ude00"', "\U0001f600"),  # a surrogate pair is one character
        ('"\\\\u0000"', "\\u0000"),  # an escaped backslash, then text
        ("9" * 40, int("9" * 40)),
        ('{"price": 10.5, "ok": true, "n": null}', {"price": 10.5, "ok": True, "n": None}),
    ],
)
def test_what_json_means_is_returned(text: str, value: object) -> None:
    assert json_parse(text, max_chars=10**6) == value
    assert json_parse(text.encode(), max_chars=10**6) == value


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("ok", None),
        ("a\x00", "a NUL character (\\u0000)"),
        ("\ud800", "a lone surrogate (\\ud800-\\udfff)"),
        ("\U0001f600", None),
    ],
)
def test_text_problem_names_what_no_store_can_hold(text: str, problem: str | None) -> None:
    assert text_problem(text) == problem
