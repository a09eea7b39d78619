from __future__ import annotations

from django.db import models


class Interaction(models.Model):
    """Long-term interaction history: the training data and the long-term half of SLi-Rec."""

    shop = models.ForeignKey("shops.Shop", on_delete=models.CASCADE, related_name="interactions")
    user_id = models.CharField(max_length=128)
    item_id = models.CharField(max_length=128)
    interaction = models.CharField(max_length=16)
    ts = models.DateTimeField()
    event_id = models.CharField(max_length=128)

    class Meta:
        constraints = [
            # Redelivered and resent events land here again: the database is the final dedupe.
            models.UniqueConstraint(fields=["shop", "event_id"], name="interaction_unique_event"),
        ]
        indexes = [models.Index(fields=["shop", "user_id", "ts"], name="interaction_user_ts")]

    def __str__(self) -> str:
        return f"{self.user_id} {self.interaction} {self.item_id} @ {self.ts:%Y-%m-%d %H:%M:%S}"


class IdentityLink(models.Model):
    """A browser's visitor id seen with a logged-in customer's id: the customer's anonymous
    browsing is theirs (identity stitching), and a customer redaction reaches it too."""

    shop = models.ForeignKey("shops.Shop", on_delete=models.CASCADE, related_name="identity_links")
    visitor_id = models.CharField(max_length=128)
    customer_id = models.CharField(max_length=128)
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
