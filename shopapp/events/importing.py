"""Offline history files (CSV or JSON Lines) read into interactions, line by line.

The dashboard's upload and any command-line import call `interactions_file_import`; it reads the
file, and `interactions_import` records the rows it could read. Whatever a line holds, it costs
only itself: a line that cannot be read (invalid UTF-8, a NUL, too long, too few or too many
fields, JSON nested too deep or with a huge number) is reported with its number and reason, and
the good lines are imported. One record is one line: the four columns never need a newline.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from shopapp.events.boundedjson import JsonRejected, JsonSyntaxError, json_parse
from shopapp.events.services import interactions_import

COLUMNS = ("user_id", "item_id", "interaction_type", "timestamp")
JSON_LINES_SUFFIXES = (".jsonl", ".ndjson", ".json")
# A real row is under 200 bytes; this also keeps every field under csv's own 128 KB limit.
MAX_LINE_BYTES = 64 * 1024
_BOM = b"\xef\xbb\xbf"


class ImportFileError(ValueError):
    """The file as a whole cannot be read (no usable header): nothing is imported."""


@dataclass(frozen=True, slots=True)
class FileImportReport:
    rows: int  # the data lines read, blank lines aside
    accepted: int
    errors: list[tuple[int, str]]  # (line number, reason), in line order


@dataclass(slots=True)
class _Read:
    rows: list[Mapping[str, Any]]
    line_of: list[int]  # the file line of each row
    errors: dict[int, str]


def interactions_file_import(*, shop: str, filename: str, data: bytes) -> FileImportReport:
    """Import a CSV (with a header naming at least COLUMNS) or JSON Lines file; a line that
    cannot be read is an error of its own. Raises ImportFileError when the header is unusable."""
    lines = _lines(data.removeprefix(_BOM))
    if filename.lower().endswith(JSON_LINES_SUFFIXES):
        read = _json_lines(lines)
    else:
        read = _csv_lines(lines)
    report = interactions_import(shop=shop, rows=read.rows)
    errors = {**read.errors, **{read.line_of[n - 1]: reason for n, reason in report.rejected}}
    return FileImportReport(
        rows=len(read.rows) + len(read.errors),
        accepted=report.accepted,
        errors=sorted(errors.items()),
    )


def _lines(data: bytes) -> Iterator[tuple[int, bytes]]:
    """(line number, line) of each line that is not blank; bytes.splitlines splits on \\n, \\r
    and \\r\\n only, so the numbers are the ones an editor shows."""
    for number, line in enumerate(data.splitlines(), start=1):
        if line.strip():
            yield number, line


def _line_text(line: bytes) -> str:
    """The line as text, or ValueError with the reason it cannot be one."""
    if len(line) > MAX_LINE_BYTES:
        raise ValueError(f"line is longer than {MAX_LINE_BYTES} bytes")
    if b"\x00" in line:
        raise ValueError("line has a NUL character")
    try:
        return line.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(f"line is not UTF-8 (byte {exc.start})") from None


def _json_lines(lines: Iterator[tuple[int, bytes]]) -> _Read:
    read = _Read(rows=[], line_of=[], errors={})
    for number, line in lines:
        try:
            row = json_parse(_line_text(line), max_chars=MAX_LINE_BYTES)
        except JsonSyntaxError:
            read.errors[number] = "not a JSON line"
            continue
        except JsonRejected as exc:
            read.errors[number] = f"line {exc}"
            continue
        except ValueError as exc:
            read.errors[number] = str(exc)
            continue
        if not isinstance(row, dict):
            read.errors[number] = "not a JSON object"
            continue
        _keep(read, number, row)
    return read


def _csv_lines(lines: Iterator[tuple[int, bytes]]) -> _Read:
    header = _csv_header(lines)
    read = _Read(rows=[], line_of=[], errors={})
    for number, line in lines:
        try:
            fields = _csv_record(_line_text(line))
        except ValueError as exc:
            read.errors[number] = str(exc)
            continue
        if len(fields) != len(header):
            read.errors[number] = f"line has {len(fields)} fields, the header {len(header)}"
            continue
        _keep(read, number, dict(zip(header, fields, strict=True)))
    return read


def _csv_header(lines: Iterator[tuple[int, bytes]]) -> list[str]:
    first = next(lines, None)
    try:
        names = _csv_record(_line_text(first[1])) if first is not None else []
    except ValueError as exc:
        raise ImportFileError(f"the header {str(exc).removeprefix('line ')}") from None
    header = [name.strip() for name in names]
    missing = set(COLUMNS) - set(header)
    if missing:
        raise ImportFileError(f"missing columns: {', '.join(sorted(missing))}")
    return header


def _csv_record(text: str) -> list[str]:
    try:
        return next(csv.reader([text]), [])
    except csv.Error as exc:
        raise ValueError(f"line is not CSV ({exc})") from None


def _keep(read: _Read, number: int, row: Mapping[str, Any]) -> None:
    """Keep a row for the normaliser, unless one of its columns holds no usable value (a JSON
    null, list or object would otherwise become an id such as "None")."""
    for column in COLUMNS:
        value = row.get(column)
        if column in row and (isinstance(value, bool) or not isinstance(value, str | int | float)):
            read.errors[number] = f"{column} is not a string or a number"
            return
        if column in row and not str(value).strip():
            read.errors[number] = f"{column} is empty"
            return
    read.rows.append(row)
    read.line_of.append(number)
