"""The per-process cache of a shop's configuration (the collector's and the tasks' hot paths):
reused with no query while the shop's generation stands, re-read at the next read after any
write through the services, in this process or another."""

from __future__ import annotations

from typing import Any

from shopapp.redis import get_redis
from shopapp.shops.keys import config_generation_key
from shopapp.shops.models import Shop, ShopSettings
from shopapp.shops.selectors import shop_config_cached
from shopapp.shops.services import shop_settings_update, shop_uninstall
from tests.brokers import queue_down


def test_a_cached_configuration_costs_no_query_until_the_shop_changes(
    shop: str, django_assert_num_queries: Any
) -> None:
    first = shop_config_cached(domain=shop)
    assert first is not None
    with django_assert_num_queries(0):
        assert shop_config_cached(domain=shop) is first
    shop_settings_update(shop=Shop.objects.get(domain=shop), data={"recommendation_count": 7})
    changed = shop_config_cached(domain=shop)
    assert changed is not None
    assert changed.recommendation_count == 7
    shop_uninstall(domain=shop)
    gone = shop_config_cached(domain=shop)
    assert gone is not None
    assert not gone.active


def test_a_write_in_another_process_reaches_this_one_through_the_generation(shop: str) -> None:
    before = shop_config_cached(domain=shop)
    assert before is not None
    # Another process's write: the row changes, and its shop_changed replaces the shop's
    # generation (this process's own cache is not cleared).
    ShopSettings.objects.filter(shop__domain=shop).update(recommendation_count=3)
    assert shop_config_cached(domain=shop) is before  # nothing says it changed yet
    get_redis().set(config_generation_key(shop), "another process's write")
    after = shop_config_cached(domain=shop)
    assert after is not None
    assert after.recommendation_count == 3


def test_a_redis_that_lost_its_data_does_not_revive_a_cached_configuration(shop: str) -> None:
    before = shop_config_cached(domain=shop)
    assert before is not None
    ShopSettings.objects.filter(shop__domain=shop).update(recommendation_count=4)
    get_redis().delete(config_generation_key(shop))  # a flush, a failover to an empty replica
    after = shop_config_cached(domain=shop)
    assert after is not None
    assert after.recommendation_count == 4


def test_a_service_write_replaces_the_generation_now_and_after_the_commit(
    shop: str, django_capture_on_commit_callbacks: Any
) -> None:
    key = config_generation_key(shop)
    shop_config_cached(domain=shop)
    seen = [get_redis().get(key)]
    with django_capture_on_commit_callbacks(execute=True):
        shop_settings_update(shop=Shop.objects.get(domain=shop), data={"recommendation_count": 5})
        seen.append(get_redis().get(key))  # now: this transaction's reads
    seen.append(get_redis().get(key))  # and after the commit
    assert None not in seen
    assert len(set(seen)) == 3


def test_with_redis_unreachable_the_row_is_read(shop: str) -> None:
    cached = shop_config_cached(domain=shop)
    ShopSettings.objects.filter(shop__domain=shop).update(recommendation_count=2)
    with queue_down():
        fresh = shop_config_cached(domain=shop)
    assert cached is not None
    assert fresh is not None
    assert (cached.recommendation_count, fresh.recommendation_count) != (2, 2)
    assert fresh.recommendation_count == 2


def test_a_tracking_key_finds_its_shop_and_an_unknown_key_none(shop: str) -> None:
    key = Shop.objects.values_list("tracking_key", flat=True).get(domain=shop)
    found = shop_config_cached(key=key)
    assert found is not None
    assert found.domain == shop
    assert shop_config_cached(key="no-such-key") is None
