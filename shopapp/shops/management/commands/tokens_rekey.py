"""Re-encrypt every stored Shopify token under the newest of SHOPIFY_TOKEN_KEYS."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from shopapp.shops.services import tokens_rekey


class Command(BaseCommand):
    help = "Re-encrypt stored Shopify tokens with the first key of SHOPIFY_TOKEN_KEYS."

    def handle(self, *args: Any, **options: Any) -> None:
        n = tokens_rekey()
        self.stdout.write(f"re-encrypted the tokens of {n} shop(s); the old key can now be dropped")
