"""Writes to shops. Selectors (reads) are in selectors.py."""

from __future__ import annotations

from shopapp.shops.models import Shop, ShopSettings


def shop_install(*, domain: str) -> Shop:
    """Create the shop (or re-activate it after an uninstall), with default settings."""
    shop, _ = Shop.objects.update_or_create(domain=domain, defaults={"uninstalled_at": None})
    ShopSettings.objects.get_or_create(shop=shop)
    return shop
