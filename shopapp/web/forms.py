"""The dashboard's settings form: every merchant setting with its bounds (docs/architecture.md
§3.7). It validates; `shopapp.shops.services.shop_settings_update` writes what it cleaned."""

from __future__ import annotations

from django import forms

from shopapp.shopify.ids import resource_id
from shopapp.shops.models import (
    HISTORY_RETENTION_MAX_DAYS,
    HISTORY_RETENTION_MIN_DAYS,
    ShopSettings,
)


class SettingsForm(forms.ModelForm):
    """Every merchant setting (docs/architecture.md §3.7), with its bounds."""

    excluded_product_ids = forms.CharField(
        required=False,
        help_text="Product ids, separated by commas",
        widget=forms.TextInput(),
    )

    class Meta:
        model = ShopSettings
        fields = (
            "tracking_enabled",
            "window_minutes",
            "window_max_events",
            "recommendation_count",
            "serving_alias",
            "exclude_window_items",
            "exclude_purchased",
            "exclude_out_of_stock",
            "excluded_product_ids",
            "widget_title",
            "metaobject_audience",
            "history_retention_days",
        )

    def clean_window_minutes(self) -> int:
        return _bounded(self.cleaned_data["window_minutes"], 1, 240, "minutes")

    def clean_window_max_events(self) -> int:
        return _bounded(self.cleaned_data["window_max_events"], 5, 500, "events")

    def clean_recommendation_count(self) -> int:
        return _bounded(self.cleaned_data["recommendation_count"], 1, 10, "products")

    def clean_history_retention_days(self) -> int:
        return _bounded(
            self.cleaned_data["history_retention_days"],
            HISTORY_RETENTION_MIN_DAYS,
            HISTORY_RETENTION_MAX_DAYS,
            "days",
        )

    def clean_serving_alias(self) -> str:
        alias = str(self.cleaned_data["serving_alias"]).strip()
        if alias not in ("champion", "challenger"):
            raise forms.ValidationError("Choose champion or challenger.")
        return alias

    def clean_excluded_product_ids(self) -> list[str]:
        raw = str(self.cleaned_data.get("excluded_product_ids") or "")
        ids = [part.strip() for part in raw.replace("\n", ",").split(",") if part.strip()]
        bad = [i for i in ids if resource_id(i) is None]
        if bad:
            raise forms.ValidationError(f"Not product ids: {', '.join(bad[:5])}")
        return list(dict.fromkeys(ids))


def _bounded(value: int, low: int, high: int, unit: str) -> int:
    if value is None or not low <= value <= high:
        raise forms.ValidationError(f"From {low} to {high} {unit}.")
    return int(value)
