"""Once, after upgrading to kinded shopper ids: move the Redis keys of bare shopper ids."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand

from shopapp.recs.keys_migrate import shopper_keys_migrate
from shopapp.redis import get_redis


class Command(BaseCommand):
    help = (
        "Rename the Redis keys of bare visitor UUIDs to the v: form and delete those of other bare "
        "shopper ids (run once after the upgrade to kinded shopper ids; safe to run again)."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(json.dumps(dict(shopper_keys_migrate(r=get_redis()))))
