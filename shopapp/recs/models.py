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
