"""Importing a history file: each line that cannot be read is an error of its own, with its number
and reason, and the good lines are imported exactly; no file raises anything but ImportFileError."""

from __future__ import annotations

import json
import re

import pytest

from shopapp.events.importing import (
    FileImportReport,
    ImportFileError,
    interactions_file_import,
)
from shopapp.events.models import Interaction

HEADER = b"user_id,item_id,interaction_type,timestamp"


def _items(shop: str) -> list[str]:
    return sorted(Interaction.objects.filter(shop__domain=shop).values_list("item_id", flat=True))


def test_csv_lines_that_cannot_be_read_are_errors_and_the_good_lines_are_imported(
    shop: str,
) -> None:
    data = b"\n".join(
        [
            HEADER,
            b"u1,1,view,1767225600",
            b"u1,2,view,1767225601\x00",  # NUL: PostgreSQL text cannot hold it
            b"u1,3,view,1767225602",
            b'u1,"' + b"x" * 200_000 + b'",view,1767225603',  # a field over csv's 128 KB limit
            b"u1,4,view,\xff1767225604",  # not UTF-8
            b"",
            b"u1,5",  # short: csv gives None for the missing fields
            b"u1,6,view,1767225606,extra",  # long
            b"u1,,view,1767225607",
            b"u1,7,cart,1767225608",
        ]
    )
    report = interactions_file_import(shop=shop, filename="history.csv", data=data)
    assert report == FileImportReport(
        rows=9,
        accepted=3,
        errors=[
            (3, "line has a NUL character"),
            (5, "line is longer than 65536 bytes"),
            (6, "line is not UTF-8 (byte 10)"),
            (8, "line has 2 fields, the header 4"),
            (9, "line has 5 fields, the header 4"),
            (10, "item_id is empty"),
        ],
    )
    assert _items(shop) == ["1", "3", "7"]


def test_json_lines_that_cannot_be_read_are_errors_and_the_good_lines_are_imported(
    shop: str,
) -> None:
    def row(item: str, **extra: object) -> bytes:
        fields = {"user_id": "u1", "item_id": item, "interaction_type": "view"}
        return json.dumps({**fields, "timestamp": 1767225600, **extra}).encode()

    data = b"\r\n".join(
        [
            row("1"),
            b'{"user_id": "u1", "item_id": "2", "deep": ' + b"[" * 1000 + b"]" * 1000 + b"}",
            b'{"user_id": "u1", "item_id": "3", "timestamp": ' + b"9" * 5000 + b"}",
            row("4", note="\x00"),
            b'{"user_id": "\\ud800", "item_id": "5"}',
            b'{"user_id": "u1", "item_id": "\xff"}',
            row("6"),
            b"[1, 2]",
            b'{"user_id": null, "item_id": "8", "interaction_type": "view", "timestamp": 1}',
            b'{"user_id": ["u"], "item_id": "9", "interaction_type": "view", "timestamp": 1}',
            b"{not json",
            row("10", interaction_type="nope"),
        ]
    )
    report = interactions_file_import(shop=shop, filename="history.JSONL", data=data)
    assert report == FileImportReport(
        rows=12,
        accepted=2,
        errors=[
            (2, "line is nested deeper than 32 levels"),
            (3, "line has a number longer than 40 characters"),
            (4, "line has a string with a NUL character (\\u0000)"),
            (5, "line has a string with a lone surrogate (\\ud800-\\udfff)"),
            (6, "line is not UTF-8 (byte 30)"),
            (8, "not a JSON object"),
            (9, "user_id is not a string or a number"),
            (10, "user_id is not a string or a number"),
            (11, "not a JSON line"),
            (12, "unknown interaction_type 'nope'"),
        ],
    )
    assert _items(shop) == ["1", "6"]


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "missing columns: interaction_type, item_id, timestamp, user_id"),
        (b"a,b\n1,2\n", "missing columns: interaction_type, item_id, timestamp, user_id"),
        (b"\xff\xfe\x00", "the header has a NUL character"),
        (b"user_id,item_\xffid\n", "the header is not UTF-8 (byte 13)"),
    ],
)
def test_a_file_without_a_usable_header_is_refused_whole(
    shop: str, data: bytes, reason: str
) -> None:
    with pytest.raises(ImportFileError, match=f"^{re.escape(reason)}$"):
        interactions_file_import(shop=shop, filename="h.csv", data=data)
    assert _items(shop) == []


def test_a_byte_order_mark_and_spaces_in_the_header_are_fine(shop: str) -> None:
    data = b"\xef\xbb\xbfuser_id, item_id ,interaction_type,timestamp\r\nu1,1,view,1767225600\r\n"
    report = interactions_file_import(shop=shop, filename="h.csv", data=data)
    assert report == FileImportReport(rows=1, accepted=1, errors=[])
