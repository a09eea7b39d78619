"""`manage.py recommendations_for --shop DOMAIN --user USER_ID [--k 10]`: the list the worker would
compute for this shopper now (`shopapp.recs.services.recommendations_compute`), shown and never
stored, so debugging a shopper's list does not change what they are served."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from shopapp.events.identity import is_user_id
from shopapp.events.window import windows_read
from shopapp.recs.services import recommendations_compute
from shopapp.redis import get_redis
from shopapp.shops.management.operator import shop_argument_add, shop_check
from shopapp.shops.selectors import ShopConfig

NO_WINDOW = "no recent activity: the app proxy serves the shop's popular list"
NO_MODEL = "no model serves this shop yet: the app proxy serves its trending and popular lists"
UNINSTALLED = "the shop is uninstalled: nothing is computed for it"


class Command(BaseCommand):
    help = (
        "Print, as JSON, the recommendations the worker would compute now for one shopper "
        "(items, scores, model version and source), without storing them."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        shop_argument_add(parser)
        parser.add_argument(
            "--user",
            required=True,
            metavar="USER_ID",
            help="the shopper's kinded id: c:<customer id>, v:<visitor uuid> or i:<imported id>",
        )
        parser.add_argument(
            "--k", default="10", help="show at most this many recommendations (default 10)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        config = shop_check(domain=options["shop"])
        user, k = options["user"], _positive(options["k"])
        if not is_user_id(user):
            raise CommandError(
                f"--user {user!r} is not a shopper id: c:<customer id>, v:<uuid> or i:<id>"
            )
        shown: dict[str, Any] = {"shop": config.domain, "user": user}
        recs = recommendations_compute(shop=config.domain, user_ids=[user]).get(user)
        if recs is None:
            shown |= {"items": [], "reason": _why_none(config, user)}
        else:
            shown |= {
                "items": recs.items[:k],
                "scores": recs.scores[:k],
                "model_version": recs.model_version,
                "source": recs.source,
            }
        self.stdout.write(json.dumps(shown))


def _why_none(config: ShopConfig, user: str) -> str:
    """Why no list was computed: recommendations_compute leaves such a shopper out silently."""
    if not config.active:
        return UNINSTALLED
    if not windows_read(r=get_redis(), shop=config.domain, user_ids=[user])[user]:
        return NO_WINDOW
    return NO_MODEL


def _positive(text: str) -> int:
    # Parsed here rather than by argparse, so a bad value is a one-line reason like the others.
    try:
        k = int(text)
    except ValueError:
        k = 0
    if k < 1:
        raise CommandError(f"--k {text!r} is not a whole number of at least 1")
    return k
