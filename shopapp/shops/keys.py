"""The shops domain's Redis keys: the generation behind every process's cached shop configuration.
Each family is declared once (shopapp/rediskeys.py) with its lifetime; the modules that write
them build their keys here."""

from __future__ import annotations

from shopapp.rediskeys import Scope, declare

# Replaced by every write of the shop's row or settings (shops/selectors.py shop_changed), so a
# process's cached configuration is re-read exactly when it changes.
CONFIG_GENERATION = declare(
    "ss:{shop}:config:gen",
    owner="shopapp.shops.selectors",
    scope=Scope.SHOP,
    what="string: a random token every write of the shop's row or settings replaces",
    expires=False,
    lifetime="as long as the shop; shop/redact deletes it",
)


def config_generation_key(shop: str) -> str:
    return CONFIG_GENERATION.key(shop=shop)
