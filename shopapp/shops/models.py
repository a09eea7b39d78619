from __future__ import annotations

import secrets

from django.db import models


def new_tracking_key() -> str:
    return secrets.token_urlsafe(18)


class Shop(models.Model):
    """A store that installed Slipstream. Tokens arrive with the install flow (issue 3)."""

    domain = models.CharField(max_length=255, unique=True)  # the myshopify domain
    installed_at = models.DateTimeField(auto_now_add=True)
    uninstalled_at = models.DateTimeField(null=True, blank=True)
    # Public, in every storefront page: it names the shop to the collector, it proves nothing.
    # Rotating it (a new key) cuts off whoever copied the old one.
    tracking_key = models.CharField(max_length=64, unique=True, default=new_tracking_key)
    # Origins allowed to post events besides https://{domain} (e.g. the shop's primary domain).
    storefront_origins = models.JSONField(default=list, blank=True)

    def __str__(self) -> str:
        return self.domain

    @property
    def is_active(self) -> bool:
        return self.uninstalled_at is None


class ShopSettings(models.Model):
    """What a merchant can change on the dashboard; every field has the default of DESIGN.md."""

    shop = models.OneToOneField(Shop, on_delete=models.CASCADE, related_name="settings")
    tracking_enabled = models.BooleanField(default=True)
    window_minutes = models.PositiveIntegerField(default=5)
    window_max_events = models.PositiveIntegerField(default=50)
    recommendation_count = models.PositiveSmallIntegerField(default=10)
    serving_alias = models.CharField(max_length=32, default="champion")
    exclude_window_items = models.BooleanField(default=True)
    exclude_purchased = models.BooleanField(default=True)
    exclude_out_of_stock = models.BooleanField(default=True)
    # Product ids (numeric part of the GID) the merchant never wants recommended.
    excluded_product_ids = models.JSONField(default=list, blank=True)
    widget_title = models.CharField(max_length=80, default="Recommended for you")

    def __str__(self) -> str:
        return f"settings of {self.shop_id}"
