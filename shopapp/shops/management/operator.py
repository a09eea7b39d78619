"""What the operator commands (`manage.py interactions_import`, `models_retrain`, `models_status`,
`recommendations_for`) share: naming the shop, and refusing one that is not installed here.

Each refusal is a CommandError of one line, which `manage.py` prints as its reason and exits 1.
"""

from __future__ import annotations

from django.core.management.base import CommandError, CommandParser

from shopapp.shops.selectors import ShopConfig, shop_config_get


def shop_argument_add(parser: CommandParser) -> None:
    parser.add_argument(
        "--shop",
        required=True,
        metavar="DOMAIN",
        help="the shop's myshopify domain, as installed (e.g. example.myshopify.com)",
    )


def shop_check(*, domain: str) -> ShopConfig:
    """The shop's configuration, or CommandError when no shop has this domain."""
    config = shop_config_get(domain=domain)
    if config is None:
        raise CommandError(f"unknown shop {domain!r}: no installed shop has this domain")
    return config
