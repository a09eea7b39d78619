from __future__ import annotations

from django.db import models

from shopapp.events.identity import MAX_USER_ID


class Interaction(models.Model):
    """Long-term interaction history: the training data and the long-term half of SLi-Rec."""

    shop = models.ForeignKey("shops.Shop", on_delete=models.CASCADE, related_name="interactions")
    # The shopper, with their kind: `c:<id>`, `v:<uuid>`, `i:<id>`, `x:<id>` (events/identity.py).
    user_id = models.CharField(max_length=MAX_USER_ID)
    item_id = models.CharField(max_length=128)
    interaction = models.CharField(max_length=16)
    ts = models.DateTimeField()
    event_id = models.CharField(max_length=128)

    class Meta:
        constraints = [
            # Redelivered and resent events land here again: the database is the final dedupe.
            models.UniqueConstraint(fields=["shop", "event_id"], name="interaction_unique_event"),
        ]
        indexes = [
            models.Index(fields=["shop", "user_id", "ts"], name="interaction_user_ts"),
            # Per-shop time ranges: retention, training windows, trending and co-visitation.
            models.Index(fields=["shop", "ts"], name="interaction_shop_ts"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.interaction} {self.item_id} @ {self.ts:%Y-%m-%d %H:%M:%S}"


class IdentityLink(models.Model):
    """A browser's visitor id seen with a logged-in customer's id: the customer's anonymous
    browsing is theirs (identity stitching), and a customer redaction reaches it too."""

    shop = models.ForeignKey("shops.Shop", on_delete=models.CASCADE, related_name="identity_links")
    visitor_id = models.CharField(max_length=MAX_USER_ID)  # `v:<uuid>`
    customer_id = models.CharField(max_length=MAX_USER_ID)  # `c:<id>`
    first_seen = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["shop", "visitor_id", "customer_id"], name="identity_link_unique"
            ),
        ]
        indexes = [models.Index(fields=["shop", "customer_id"], name="identity_customer")]

    def __str__(self) -> str:
        return f"{self.visitor_id} -> {self.customer_id}"


class OrderShopper(models.Model):
    """The shopper who placed an order, as the purchase events said (a guest's is their visitor
    id): how customers/redact finds a guest's data from the `orders_to_redact` Shopify names."""

    shop = models.ForeignKey("shops.Shop", on_delete=models.CASCADE, related_name="order_shoppers")
    order_id = models.CharField(max_length=32)
    user_id = models.CharField(max_length=MAX_USER_ID)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["shop", "order_id", "user_id"], name="order_shopper_unique"
            ),
        ]
        indexes = [models.Index(fields=["shop", "order_id"], name="order_shopper_order")]

    def __str__(self) -> str:
        return f"order {self.order_id}: {self.user_id}"
