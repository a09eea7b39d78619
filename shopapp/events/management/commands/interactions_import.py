"""`manage.py interactions_import --shop DOMAIN FILE`: a CSV or JSON Lines history file, through the
dashboard's importer (`shopapp.events.importing.interactions_file_import`).

That importer takes the whole file as bytes, so this command streams the file itself: it reads
BLOCK_LINES whole lines at a time and hands each block to the importer, with the CSV header put
back in front of every block after the first, and maps the importer's line numbers back to the
file's. Memory stays bounded by a block, whatever the file's size. Splitting at line ends changes
nothing the importer does: one record is one line, and each row is normalised, and de-duplicated
by the digest of its content, on its own. A run that stops part-way has kept the blocks it
finished; running it again adds only the rest.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from shopapp.events.importing import JSON_LINES_SUFFIXES, ImportFileError, interactions_file_import
from shopapp.shops.management.operator import shop_argument_add, shop_check

BLOCK_LINES = 10_000
ERRORS_SHOWN = 200  # as the dashboard's upload shows
_BOM = b"\xef\xbb\xbf"


class Command(BaseCommand):
    help = (
        "Import a shop's interaction history from a CSV (header: user_id, item_id, "
        "interaction_type, timestamp) or JSON Lines (.jsonl, .ndjson, .json) file, as the "
        "dashboard's upload does. Bad lines are reported on stderr with their number and reason; "
        'the last line of stdout is {"imported": N, "rejected": M}.'
    )

    def add_arguments(self, parser: CommandParser) -> None:
        shop_argument_add(parser)
        parser.add_argument(
            "file",
            metavar="FILE",
            help="the history file; its name decides the format (.jsonl/.ndjson/.json, else CSV)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        shop = shop_check(domain=options["shop"]).domain
        path = options["file"]
        imported, rejected = 0, 0
        shown: list[tuple[int, str]] = []
        try:
            with open(path, "rb") as handle, tqdm(
                total=os.fstat(handle.fileno()).st_size, unit="B", unit_scale=True, desc="import"
            ) as bar:  # fmt: skip
                for block in _blocks(handle, csv=not _is_json_lines(path)):
                    report = interactions_file_import(shop=shop, filename=path, data=block.data)
                    imported += report.accepted
                    rejected += len(report.errors)
                    room = ERRORS_SHOWN - len(shown)
                    shown += [(n + block.shift, why) for n, why in report.errors[:room]]
                    bar.update(block.size)
        except OSError as exc:
            raise CommandError(f"cannot read {path}: {exc.strerror or exc}") from None
        except ImportFileError as exc:
            raise CommandError(f"{path}: {exc}") from None
        # After the bar has closed, so the report is not drawn over.
        for number, reason in shown:
            self.stderr.write(f"line {number}: {reason}")
        if rejected > len(shown):
            self.stderr.write(f"... and {rejected - len(shown)} more rejected lines")
        self.stdout.write(json.dumps({"imported": imported, "rejected": rejected}))


def _is_json_lines(path: str) -> bool:
    return path.lower().endswith(JSON_LINES_SUFFIXES)


@dataclass(frozen=True, slots=True)
class _Block:
    data: bytes  # what the importer reads
    size: int  # the bytes of the file it covers
    shift: int  # the importer's line n is the file's line n + shift


def _blocks(handle: IO[bytes], *, csv: bool) -> Iterator[_Block]:
    """The file in blocks of whole lines. A binary file's lines end at b"\\n" only, so a block
    never splits a "\\r\\n"; lines are counted by bytes.splitlines, as the importer numbers them.
    """
    before, header, pending = 0, None, []
    for line in handle:
        pending.append(line)
        if len(pending) < BLOCK_LINES:
            continue
        if csv and before == 0:
            header = _header(pending)
            if header is None:
                continue  # blank lines so far: the first block runs on to the header
        block = _block(pending, before=before, header=header)
        yield block
        before = block.shift + len(block.data.splitlines())
        pending = []
    if pending or before == 0:
        yield _block(pending, before=before, header=header)


def _header(lines: list[bytes]) -> bytes | None:
    """The CSV header: the first line that is not blank (what the importer reads as one)."""
    text = b"".join(lines).removeprefix(_BOM).splitlines()
    return next((line for line in text if line.strip()), None)


def _block(lines: list[bytes], *, before: int, header: bytes | None) -> _Block:
    data = b"".join(lines)
    if header is None or before == 0:  # JSON Lines, or the file's own start, header and all
        return _Block(data=data, size=len(data), shift=before)
    # The header is the importer's line 1, the block's first line its line 2.
    return _Block(data=header + b"\n" + data, size=len(data), shift=before - 1)
