"""Retention of interaction history (shopapp/events/retention.py)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from django.core.exceptions import ValidationError

from shopapp.events.models import Interaction
from shopapp.events.retention import interactions_expire
from shopapp.shops.models import Shop, ShopSettings
from shopapp.shops.services import shop_install
from workers import tasks

NOW = datetime(2027, 3, 1, 12, 0, tzinfo=UTC)


def _rows(shop: str, ages: dict[str, timedelta], now: datetime = NOW) -> None:
    shop_id = Shop.objects.get(domain=shop).id
    Interaction.objects.bulk_create(
        Interaction(
            shop_id=shop_id,
            user_id=f"v:{uuid.uuid4()}",
            item_id="7",
            interaction="view",
            ts=now - age,
            event_id=name,
        )
        for name, age in ages.items()
    )


def _left(shop: str) -> list[str]:
    return sorted(Interaction.objects.filter(shop__domain=shop).values_list("event_id", flat=True))


@pytest.fixture
def other_shop(db: None) -> str:
    domain = f"other-{uuid.uuid4().hex[:10]}.myshopify.com"
    shop_install(domain=domain)
    return domain


def test_rows_older_than_the_shops_setting_go_and_other_shops_keep_theirs(
    shop: str, other_shop: str
) -> None:
    ShopSettings.objects.filter(shop__domain=shop).update(history_retention_days=30)
    day = timedelta(days=1)
    _rows(
        shop,
        {
            "older": 31 * day,
            "just-past": 30 * day + timedelta(seconds=1),
            "exactly-30-days": 30 * day,
            "recent": 29 * day,
        },
    )
    _rows(other_shop, {"o-31d": 31 * day, "o-364d": 364 * day, "o-366d": 366 * day})
    assert interactions_expire(now=NOW) == 3
    assert _left(shop) == ["exactly-30-days", "recent"]
    assert _left(other_shop) == ["o-31d", "o-364d"]  # the default: 365 days
    assert interactions_expire(now=NOW) == 0  # a rerun finds nothing more


def test_deletes_go_in_bounded_batches_and_a_run_leaves_the_rest_for_the_next(shop: str) -> None:
    ShopSettings.objects.filter(shop__domain=shop).update(history_retention_days=7)
    _rows(shop, {f"old-{n}": timedelta(days=8 + n) for n in range(5)} | {"new": timedelta(days=1)})
    assert interactions_expire(now=NOW, batch_rows=2, max_batches=2) == 4
    assert len(_left(shop)) == 2
    assert interactions_expire(now=NOW, batch_rows=2, max_batches=2) == 1
    assert _left(shop) == ["new"]


def test_a_shop_without_settings_keeps_a_year(shop: str) -> None:
    ShopSettings.objects.filter(shop__domain=shop).delete()
    _rows(shop, {"a": timedelta(days=364), "b": timedelta(days=366)})
    assert interactions_expire(now=NOW) == 1
    assert _left(shop) == ["a"]


def test_the_beat_task_runs_it(shop: str) -> None:
    ShopSettings.objects.filter(shop__domain=shop).update(history_retention_days=7)
    _rows(shop, {"a": timedelta(days=6), "b": timedelta(days=8)}, now=datetime.now(UTC))
    assert tasks.interactions_expire.apply().get() == 1
    assert _left(shop) == ["a"]


@pytest.mark.parametrize(("days", "valid"), [(6, False), (7, True), (1095, True), (1096, False)])
def test_the_setting_is_bounded(shop: str, days: int, valid: bool) -> None:
    settings_row = ShopSettings.objects.get(shop__domain=shop)
    settings_row.history_retention_days = days
    if valid:
        settings_row.full_clean()
    else:
        with pytest.raises(ValidationError):
            settings_row.full_clean()
