from __future__ import annotations

from django.db import models


class Product(models.Model):
    """The shop's catalogue as the recommendations block and the post-filters need it."""

    shop = models.ForeignKey("shops.Shop", on_delete=models.CASCADE, related_name="products")
    product_id = models.CharField(max_length=64)  # numeric part of the Shopify GID
    handle = models.CharField(max_length=255)
    title = models.CharField(max_length=255)
    category = models.CharField(max_length=255, blank=True)
    price = models.DecimalField(max_digits=12, decimal_places=2)
    currency = models.CharField(max_length=3, default="USD")
    image_url = models.URLField(max_length=1000, blank=True)
    available = models.BooleanField(default=True)  # in stock (or sold while out of stock)
    # False for drafts, archived and deleted products: never recommended, whatever the settings.
    published = models.BooleanField(default=True)
    collection_ids = models.JSONField(default=list, blank=True)  # numeric parts of collection GIDs

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["shop", "product_id"], name="product_unique_id"),
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.product_id})"


class ModelDecision(models.Model):
    """One retraining's choice of the kind that serves a shop, with its evidence: every candidate
    kind's holdout figures (recs/training.py), shown on the Models page."""

    shop = models.ForeignKey("shops.Shop", on_delete=models.CASCADE, related_name="decisions")
    decided_at = models.DateTimeField()
    serving_kind = models.CharField(max_length=32, blank=True)  # "": nothing to serve yet
    serving_version = models.CharField(max_length=32, blank=True)
    reason = models.CharField(max_length=255)
    cases = models.PositiveIntegerField()  # holdout cases every candidate was scored on
    # [{"kind", "version", "ndcg_at_10", "hr_at_10", "champion_version", "champion_ndcg_at_10",
    #   "promoted", "seconds"}], one per kind fitted.
    candidates = models.JSONField(default=list)
    seconds = models.FloatField()

    class Meta:
        indexes = [models.Index(fields=["shop", "-decided_at"], name="decision_shop_latest")]

    def __str__(self) -> str:
        return f"{self.shop_id}: {self.serving_kind or 'nothing'} at {self.decided_at}"
