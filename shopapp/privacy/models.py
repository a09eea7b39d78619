from __future__ import annotations

from django.db import models


class DataExport(models.Model):
    """A customers/data_request answered: everything we hold about the customer, for the merchant
    to hand over (shown on the dashboard). Deleted by customers/redact, shop/redact, and after
    EXPORT_RETENTION_DAYS (privacy/services.py)."""

    shop = models.ForeignKey("shops.Shop", on_delete=models.CASCADE, related_name="data_exports")
    customer_id = models.CharField(max_length=128)
    data_request_id = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    data = models.JSONField()

    class Meta:
        indexes = [models.Index(fields=["shop", "customer_id"], name="export_customer")]

    def __str__(self) -> str:
        return f"export for customer {self.customer_id} of {self.shop_id}"
