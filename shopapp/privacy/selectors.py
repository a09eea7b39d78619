"""Reads of what the compliance webhooks left for the merchant: the customer data exports."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from shopapp.privacy.models import DataExport

EXPORT_RETENTION_DAYS = 30  # deleted after this by beat (services.exports_expire)


@dataclass(frozen=True, slots=True)
class ExportSummary:
    id: int
    customer_id: str
    data_request_id: str
    created_at: datetime
    expires_at: datetime


def exports_list(*, shop_domain: str) -> list[ExportSummary]:
    """The shop's exports, newest first (only this shop's: the caller's verified session)."""
    rows = (
        DataExport.objects.filter(shop__domain=shop_domain)
        .order_by("-created_at")
        .values_list("id", "customer_id", "data_request_id", "created_at")
    )
    return [
        ExportSummary(
            id=pk,
            customer_id=customer,
            data_request_id=request_id,
            created_at=created,
            expires_at=created + timedelta(days=EXPORT_RETENTION_DAYS),
        )
        for pk, customer, request_id, created in rows
    ]


def export_data(*, shop_domain: str, export_id: int) -> dict[str, Any] | None:
    """One export's content, or None when the shop has no such export (another shop's included)."""
    found = DataExport.objects.filter(shop__domain=shop_domain, id=export_id).first()
    return found.data if found is not None else None
