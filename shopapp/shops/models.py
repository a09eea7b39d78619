from __future__ import annotations

import secrets

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

HISTORY_RETENTION_DEFAULT_DAYS = 365
HISTORY_RETENTION_MIN_DAYS = 7
HISTORY_RETENTION_MAX_DAYS = 1095


def new_tracking_key() -> str:
    return secrets.token_urlsafe(18)


class Shop(models.Model):
    """A store that installed Slipstream. Its Shopify tokens are in ShopCredential."""

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

    @property
    def model_namespace(self) -> str:
        """Where the shop's models are registered (`slipstream-<namespace>-<kind>`): the row's
        id, which no domain change alters and which names nobody (decisions/0009)."""
        return shop_model_namespace(self.pk)


def shop_model_namespace(shop_id: int) -> str:
    return f"s{shop_id}"


class ShopSettings(models.Model):
    """What a merchant can change on the dashboard (defaults, bounds: docs/architecture.md §3.7)."""

    shop = models.OneToOneField(Shop, on_delete=models.CASCADE, related_name="settings")
    tracking_enabled = models.BooleanField(default=True)
    window_minutes = models.PositiveIntegerField(default=5)
    window_max_events = models.PositiveIntegerField(default=50)
    recommendation_count = models.PositiveSmallIntegerField(default=10)
    serving_alias = models.CharField(max_length=32, default="champion")
    # The model kind that serves: the latest retraining's choice (recs/training.py), unless the
    # merchant pinned one. Empty: no model yet (the fill chain serves).
    serving_kind = models.CharField(max_length=32, blank=True, default="")
    pinned_kind = models.CharField(max_length=32, blank=True, default="")
    exclude_window_items = models.BooleanField(default=True)
    exclude_purchased = models.BooleanField(default=True)
    exclude_out_of_stock = models.BooleanField(default=True)
    # Product ids (numeric part of the GID) the merchant never wants recommended.
    excluded_product_ids = models.JSONField(default=list, blank=True)
    widget_title = models.CharField(max_length=80, default="Recommended for you")

    class MetaobjectAudience(models.TextChoices):
        CUSTOMERS = "customers", "Logged-in customers"
        NOBODY = "nobody", "Nobody (the app proxy only)"

    # Whose recommendations are also written to Shopify metaobjects (for the store's own Liquid).
    # Anonymous visitors are never persisted there: their lists live a day in Redis and no longer.
    metaobject_audience = models.CharField(
        max_length=16, choices=MetaobjectAudience.choices, default=MetaobjectAudience.CUSTOMERS
    )
    # Interaction history older than this is deleted by a daily beat task (events/retention.py).
    # A year by default; 7 to 1095 days (under 30, retraining sees less than its usual 30 days).
    history_retention_days = models.PositiveIntegerField(
        "keep interaction history for (days)",
        default=HISTORY_RETENTION_DEFAULT_DAYS,
        help_text="Older interactions are deleted every day; the models learn from what is kept.",
        validators=[
            MinValueValidator(HISTORY_RETENTION_MIN_DAYS),
            MaxValueValidator(HISTORY_RETENTION_MAX_DAYS),
        ],
    )

    def __str__(self) -> str:
        return f"settings of {self.shop_id}"


class ShopCredential(models.Model):
    """The shop's expiring offline access token and its refresh token, encrypted (shops/crypto.py).

    Deleted on app/uninstalled; re-created by token exchange when the merchant opens the app again.
    """

    shop = models.OneToOneField(Shop, on_delete=models.CASCADE, related_name="credential")
    access_token = models.TextField()  # Fernet ciphertext
    scopes = models.CharField(max_length=1000, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)  # None: a non-expiring token
    refresh_token = models.TextField(blank=True)  # Fernet ciphertext; rotated on every refresh
    refresh_token_expires_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Set when a refresh was refused: the next session token from the admin re-exchanges.
    refresh_failed = models.CharField(max_length=200, blank=True)

    def __str__(self) -> str:
        return f"credential of {self.shop_id}"


class WebhookDelivery(models.Model):
    """A webhook Shopify delivered: kept to drop its retries and duplicates, and to run it once.

    The payload is held only until the handler has run, then blanked, so compliance payloads
    (customer email, phone) are not kept.
    """

    delivery_id = models.CharField(max_length=128, unique=True)  # X-Shopify-Event-Id or webhook id
    shop_domain = models.CharField(max_length=255)
    topic = models.CharField(max_length=64)
    payload = models.JSONField(default=dict)
    received_at = models.DateTimeField(auto_now_add=True)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["shop_domain", "topic"], name="webhook_shop_topic")]

    def __str__(self) -> str:
        return f"{self.topic} for {self.shop_domain} ({self.delivery_id})"
