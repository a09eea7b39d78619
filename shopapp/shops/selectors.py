"""Reads of shops. The collector's hot path reads through a short per-process cache."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from shopapp.shops.models import Shop, ShopCredential, ShopSettings, WebhookDelivery

# How stale a cached shop may be on the collector's hot path: a settings change or an uninstall
# reaches every web process within this many seconds.
CACHE_TTL_S = 5.0


@dataclass(frozen=True, slots=True)
class ShopConfig:
    """The plain-data view of a shop's settings that tasks and views work with."""

    shop_id: int
    domain: str
    active: bool
    tracking_enabled: bool
    window_seconds: int
    window_max_events: int
    recommendation_count: int
    serving_alias: str
    model_namespace: str  # the shop's models: slipstream-<namespace>-<kind>
    serving_kind: str  # pinned by the merchant, else chosen by retraining; "" before any model
    exclude_window_items: bool
    exclude_purchased: bool
    exclude_out_of_stock: bool
    excluded_product_ids: frozenset[str]
    allowed_origins: frozenset[str]
    publish_customers: bool = True  # write customers' lists to metaobjects


def active_shop_domains() -> list[str]:
    return list(Shop.objects.filter(uninstalled_at__isnull=True).values_list("domain", flat=True))


def shop_needs_token(*, domain: str) -> bool:
    """True when the shop has no usable offline token: never installed, uninstalled, a refresh
    refused, or both tokens expired. The admin then exchanges a session token for a new one."""
    credential = (
        ShopCredential.objects.filter(shop__domain=domain, shop__uninstalled_at__isnull=True)
        .only("refresh_failed", "expires_at", "refresh_token_expires_at", "refresh_token")
        .first()
    )
    if credential is None or credential.refresh_failed:
        return True
    now = datetime.now(UTC)
    access_dead = credential.expires_at is not None and credential.expires_at <= now
    refresh_dead = not credential.refresh_token or (
        credential.refresh_token_expires_at is not None
        and credential.refresh_token_expires_at <= now
    )
    return access_dead and refresh_dead


def webhook_stalled(*, delivery_id: str, after_s: float) -> bool:
    """Received more than `after_s` ago and still not handled."""
    return WebhookDelivery.objects.filter(
        delivery_id=delivery_id,
        processed_at=None,
        received_at__lt=datetime.now(UTC) - timedelta(seconds=after_s),
    ).exists()


def shop_config_get(*, domain: str) -> ShopConfig | None:
    """The shop's configuration, or None when the shop is unknown."""
    return _config(Shop.objects.filter(domain=domain).select_related("settings").first())


def shop_config_by_tracking_key(*, key: str) -> ShopConfig | None:
    return _config(Shop.objects.filter(tracking_key=key).select_related("settings").first())


_cache: dict[tuple[str, str], tuple[float, ShopConfig | None]] = {}
_cache_lock = threading.Lock()


def shop_config_cached(*, domain: str | None = None, key: str | None = None) -> ShopConfig | None:
    """shop_config_get / shop_config_by_tracking_key through a CACHE_TTL_S per-process cache."""
    cache_key = ("domain", domain) if domain is not None else ("key", key or "")
    now = time.monotonic()
    with _cache_lock:
        hit = _cache.get(cache_key)
    if hit is not None and now - hit[0] < CACHE_TTL_S:
        return hit[1]
    config = (
        shop_config_get(domain=domain)
        if domain is not None
        else shop_config_by_tracking_key(key=key or "")
    )
    with _cache_lock:
        if len(_cache) > 10_000:  # bounded: a flood of made-up keys cannot grow it for ever
            _cache.clear()
        _cache[cache_key] = (now, config)
    return config


def shop_cache_clear() -> None:
    """Forget cached shops in this process (tests; an operator's shell after a manual change)."""
    with _cache_lock:
        _cache.clear()


def _config(shop: Shop | None) -> ShopConfig | None:
    if shop is None:
        return None
    try:
        s = shop.settings
    except ShopSettings.DoesNotExist:
        s = ShopSettings(shop=shop)
    return ShopConfig(
        shop_id=shop.pk,
        domain=shop.domain,
        active=shop.is_active,
        tracking_enabled=s.tracking_enabled,
        model_namespace=shop.model_namespace,
        serving_kind=s.pinned_kind or s.serving_kind,
        window_seconds=s.window_minutes * 60,
        window_max_events=s.window_max_events,
        recommendation_count=s.recommendation_count,
        serving_alias=s.serving_alias,
        exclude_window_items=s.exclude_window_items,
        exclude_purchased=s.exclude_purchased,
        exclude_out_of_stock=s.exclude_out_of_stock,
        excluded_product_ids=frozenset(str(p) for p in s.excluded_product_ids),
        allowed_origins=frozenset([f"https://{shop.domain}", *shop.storefront_origins]),
        publish_customers=s.metaobject_audience == ShopSettings.MetaobjectAudience.CUSTOMERS,
    )
