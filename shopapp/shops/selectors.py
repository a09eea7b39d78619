"""Reads of shops, cached per process for the hot paths (collector, ingest, app proxy)."""

from __future__ import annotations

from dataclasses import dataclass

from shopapp.shops.models import Shop, ShopSettings


@dataclass(frozen=True, slots=True)
class ShopConfig:
    """The plain-data view of a shop's settings that tasks and views work with."""

    domain: str
    active: bool
    tracking_enabled: bool
    window_seconds: int
    window_max_events: int
    recommendation_count: int
    serving_alias: str
    exclude_window_items: bool


def active_shop_domains() -> list[str]:
    return list(Shop.objects.filter(uninstalled_at__isnull=True).values_list("domain", flat=True))


def shop_config_get(*, domain: str) -> ShopConfig | None:
    """The shop's configuration, or None when the shop is unknown."""
    shop = Shop.objects.filter(domain=domain).select_related("settings").first()
    if shop is None:
        return None
    try:
        s = shop.settings
    except ShopSettings.DoesNotExist:
        s = ShopSettings(shop=shop)
    return ShopConfig(
        domain=shop.domain,
        active=shop.is_active,
        tracking_enabled=s.tracking_enabled,
        window_seconds=s.window_minutes * 60,
        window_max_events=s.window_max_events,
        recommendation_count=s.recommendation_count,
        serving_alias=s.serving_alias,
        exclude_window_items=s.exclude_window_items,
    )
