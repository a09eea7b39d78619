"""The dashboard's settings: the form's history retention field and its bounds, and the service
that saves what the form cleaned (and forgets the cached shop, so the change applies at once)."""

from __future__ import annotations

import pytest
from django.forms.models import model_to_dict

from shopapp.shops.models import Shop, ShopSettings
from shopapp.shops.selectors import shop_config_cached
from shopapp.shops.services import shop_settings_update
from shopapp.web.forms import SettingsForm


def _form(shop: str, days: object) -> SettingsForm:
    instance = ShopSettings.objects.get(shop__domain=shop)
    data = {k: v for k, v in model_to_dict(instance).items() if v not in (None, False)}
    data |= {"excluded_product_ids": "", "history_retention_days": days}
    return SettingsForm(data, instance=instance)


def test_the_retention_defaults_to_a_year_and_can_be_changed(shop: str) -> None:
    assert ShopSettings.objects.get(shop__domain=shop).history_retention_days == 365
    form = _form(shop, "30")
    assert form.is_valid(), form.errors
    shop_settings_update(shop=Shop.objects.get(domain=shop), data=form.cleaned_data)
    assert ShopSettings.objects.get(shop__domain=shop).history_retention_days == 30


@pytest.mark.parametrize("days", ["6", "1096"])
def test_the_retention_is_bounded(shop: str, days: str) -> None:
    form = _form(shop, days)
    assert not form.is_valid()
    assert form.errors["history_retention_days"] == ["From 7 to 1095 days."]


def test_saving_settings_clears_the_cached_shop(shop: str) -> None:
    cached = shop_config_cached(domain=shop)
    assert cached is not None
    assert (cached.recommendation_count, cached.excluded_product_ids) == (10, frozenset())
    shop_settings_update(
        shop=Shop.objects.get(domain=shop),
        data={"recommendation_count": 4, "excluded_product_ids": ["7", "9"]},
    )
    cached = shop_config_cached(domain=shop)  # within CACHE_TTL_S of the first read
    assert cached is not None
    assert (cached.recommendation_count, cached.excluded_product_ids) == (4, frozenset({"7", "9"}))


def test_a_name_that_is_not_a_setting_is_refused(shop: str) -> None:
    with pytest.raises(ValueError, match="nonsense"):
        shop_settings_update(shop=Shop.objects.get(domain=shop), data={"nonsense": 1})
    assert ShopSettings.objects.get(shop__domain=shop).recommendation_count == 10
