"""`manage.py models_status --shop DOMAIN [--json]`: what serves the shop and why, and each
retrained kind's champion and challenger (`shopapp.recs.selectors.models_status`)."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from shopapp.recs.selectors import models_status
from shopapp.shops.management.operator import shop_argument_add, shop_check

COLUMNS = ("kind", "alias", "version", "NDCG@10", "HR@10", "cases", "trained at")


class Command(BaseCommand):
    help = (
        "Show the shop's serving model and why it serves, and each retrained kind's champion and "
        "challenger with their holdout NDCG@10 and HR@10 and when each was trained."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        shop_argument_add(parser)
        parser.add_argument(
            "--json",
            action="store_true",
            help="print the status as one line of JSON instead of a table",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        status = models_status(shop=shop_check(domain=options["shop"]).domain)
        if options["json"]:
            self.stdout.write(json.dumps(status))
            return
        for line in _table(status):
            self.stdout.write(line)


def _table(status: dict[str, Any]) -> list[str]:
    serving = status["serving"]
    what = f"{serving['kind']} v{serving['version']}" if serving else "nothing"
    decided = f" (decided {status['decided_at']})" if status["decided_at"] else ""
    rows = [COLUMNS]
    for kind, aliases in status["kinds"].items():
        for alias, model in aliases.items():
            rows.append((kind, alias, *_figures(model)))
    widths = [max(len(row[n]) for row in rows) for n in range(len(COLUMNS))]
    lines = [f"{status['shop']}: serving {what}: {status['reason']}{decided}"]
    for row in rows:
        lines.append("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
    return lines


def _figures(model: dict[str, Any] | None) -> tuple[str, ...]:
    if model is None:
        return ("-",) * (len(COLUMNS) - 2)
    return (
        model["version"],
        _number(model["ndcg_at_10"]),
        _number(model["hr_at_10"]),
        _number(model["holdout_cases"], "{:.0f}"),
        model["trained_at"],
    )


def _number(value: float | None, form: str = "{:.4f}") -> str:
    return form.format(value) if value is not None else "-"
