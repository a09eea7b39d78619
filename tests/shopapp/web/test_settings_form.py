"""The dashboard's settings form: the history retention field and its bounds."""

from __future__ import annotations

import pytest
from django.forms.models import model_to_dict

from shopapp.shops.models import ShopSettings
from shopapp.web.dashboard import SettingsForm


def _form(shop: str, days: object) -> SettingsForm:
    instance = ShopSettings.objects.get(shop__domain=shop)
    data = {k: v for k, v in model_to_dict(instance).items() if v not in (None, False)}
    data |= {"excluded_product_ids": "", "history_retention_days": days}
    return SettingsForm(data, instance=instance)


def test_the_retention_defaults_to_a_year_and_can_be_changed(shop: str) -> None:
    assert ShopSettings.objects.get(shop__domain=shop).history_retention_days == 365
    form = _form(shop, "30")
    assert form.is_valid(), form.errors
    form.save()
    assert ShopSettings.objects.get(shop__domain=shop).history_retention_days == 30


@pytest.mark.parametrize("days", ["6", "1096"])
def test_the_retention_is_bounded(shop: str, days: str) -> None:
    form = _form(shop, days)
    assert not form.is_valid()
    assert form.errors["history_retention_days"] == ["From 7 to 1095 days."]
