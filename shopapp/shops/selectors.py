"""Reads of shops. The hot paths (the collector, the ingest and refresh tasks) read a shop's
configuration through a per-process cache that every write of it invalidates (shop_changed)."""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.db import transaction
from redis.exceptions import RedisError

from shopapp.redis import get_redis
from shopapp.shops.keys import config_generation_key
from shopapp.shops.models import Shop, ShopCredential, ShopSettings, WebhookDelivery

# How long a tracking key's shop is cached: a rotated key still works this much longer elsewhere.
CACHE_TTL_S = 5.0
# A belt to the generation's braces: a cached configuration is re-read at least this often,
# whatever the generation says.
CONFIG_MAX_AGE_S = 60.0


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


_configs: dict[str, tuple[str, float, ShopConfig | None]] = {}  # domain: generation, at, config
_domains: dict[str, tuple[float, str | None]] = {}  # tracking key: at, domain
_cache_lock = threading.Lock()
_MAX_ENTRIES = 10_000  # bounded: a flood of made-up tracking keys cannot grow it for ever


def shop_config_cached(*, domain: str | None = None, key: str | None = None) -> ShopConfig | None:
    """shop_config_get (or the shop of a tracking key) through a per-process cache, valid while
    the shop's configuration generation stands (one Redis GET): a write through the services
    reaches every process at its next read. A tracking key's shop is cached CACHE_TTL_S."""
    if domain is None:
        domain = _domain_of(key or "")
        if domain is None:
            return None
    try:
        generation = _generation(domain)  # before the row
    except RedisError:
        # No generation to trust: read the row (the caller answers for Redis itself, e.g. 503).
        return shop_config_get(domain=domain)
    now = time.monotonic()
    with _cache_lock:
        hit = _configs.get(domain)
    if hit is not None and hit[0] == generation and now - hit[1] < CONFIG_MAX_AGE_S:
        return hit[2]
    config = shop_config_get(domain=domain)
    with _cache_lock:
        if len(_configs) >= _MAX_ENTRIES:
            _configs.clear()
        _configs[domain] = (generation, now, config)
    return config


def _domain_of(key: str) -> str | None:
    now = time.monotonic()
    with _cache_lock:
        hit = _domains.get(key)
    if hit is not None and now - hit[0] < CACHE_TTL_S:
        return hit[1]
    domain = Shop.objects.filter(tracking_key=key).values_list("domain", flat=True).first()
    with _cache_lock:
        if len(_domains) >= _MAX_ENTRIES:
            _domains.clear()
        _domains[key] = (now, domain)
    return domain


def _generation(domain: str) -> str:
    """The shop's configuration generation: a random token each write replaces. Random, not a
    counter, so that a Redis that lost its data (flushed, failed over) never brings back a value
    that a process's cached entry carries; a shop with none yet gets one."""
    client = get_redis()
    key = config_generation_key(domain)
    value = client.get(key)
    if value is not None:
        return str(value)
    token = _token()
    if client.set(key, token, nx=True):
        return token
    return str(client.get(key) or token)  # another process set one first


def _token() -> str:
    return secrets.token_hex(8)


def shop_changed(*, domain: str) -> None:
    """Call after writing the shop's row or settings: every process re-reads its cached
    configuration. A new generation now (so this transaction's own later reads see it) and
    again after the commit (so a read between the two, of the rows before the commit, is not
    kept)."""
    key = config_generation_key(domain)
    client = get_redis()
    client.set(key, _token())
    transaction.on_commit(lambda: client.set(key, _token()))
    shop_cache_clear()  # this process's tracking keys too: a rotated key stops at once here


def shop_cache_clear() -> None:
    """Forget cached shops in this process (tests; an operator's shell after a manual change)."""
    with _cache_lock:
        _configs.clear()
        _domains.clear()


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
