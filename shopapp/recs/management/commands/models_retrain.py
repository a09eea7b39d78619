"""`manage.py models_retrain --shop DOMAIN [--kind KIND] [--now ISO]`: the shop's retraining, run
here and now (`shopapp.recs.training.shop_models_retrain`), under the same single-flight claim as
the train queue's, so it never runs beside a retraining of the same shop."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from shopapp.recs.scheduling import retrain_claim, retrain_release
from shopapp.recs.training import RETRAINED, shop_models_retrain
from shopapp.shops.management.operator import shop_argument_add, shop_check


class Command(BaseCommand):
    help = (
        "Retrain one shop's models on its own history, now, and choose the kind that serves it. "
        "The last line of stdout is the decision as JSON: every candidate kind with its holdout "
        "NDCG@10 and HR@10, and the serving kind and version."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        shop_argument_add(parser)
        parser.add_argument(
            "--kind",
            help=f"retrain only this kind (one of {', '.join(RETRAINED)}); default: every kind "
            "the shop's data supports",
        )
        parser.add_argument(
            "--now",
            metavar="ISO",
            help="retrain as if it were this ISO 8601 time (a time without a zone is UTC); "
            "the holdout is the day before it. Default: now",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        shop = shop_check(domain=options["shop"]).domain
        kind = options["kind"]
        if kind is not None and kind not in RETRAINED:
            raise CommandError(f"unknown kind {kind!r}: one of {', '.join(RETRAINED)}")
        now = _iso_time(options["now"]) if options["now"] is not None else None
        if not retrain_claim(shop=shop):
            raise CommandError(f"a retraining of {shop} is already queued or running")
        try:
            decision = shop_models_retrain(
                shop=shop, kinds=[kind] if kind else None, now=now, progress=True
            )
        finally:
            retrain_release(shop=shop)
        if decision is None:
            summary = {"shop": shop, "serving": None, "reason": "no history to train on"}
        else:
            summary = decision.as_dict()
        self.stdout.write(json.dumps(summary))


def _iso_time(text: str) -> datetime:
    try:
        at = datetime.fromisoformat(text.strip())
    except ValueError:
        raise CommandError(f"--now {text!r} is not an ISO 8601 time") from None
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)
