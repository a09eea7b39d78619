from __future__ import annotations

import pytest

from recommender.trending import TrendingConfig, surge_ratio, trending_rank

NOW = 1000


def test_a_surge_outranks_steady_popularity() -> None:
    # "steady" sells 10 an hour all day; "spike" had 1 an hour and 40 in the last hour.
    buckets = {h: {"steady": 10.0, "spike": 1.0} for h in range(NOW - 23, NOW)}
    buckets[NOW] = {"steady": 10.0, "spike": 40.0}
    ranked = trending_rank(buckets, now_hour=NOW, k=2, config=TrendingConfig())
    assert [s.item_id for s in ranked] == ["spike", "steady"]


def test_without_a_surge_it_is_the_decayed_count() -> None:
    config = TrendingConfig(half_life_hours=1.0)
    buckets = {NOW - 1: {"a": 4.0}, NOW: {"b": 2.5, "a": 0.0}}
    [first, second] = trending_rank(buckets, now_hour=NOW, k=5, config=config)
    # a: 4 x 0.5 (one half-life old) = 2.0, no surge; b: 2.5 now, its ratio (2.5+1)/(0+1) = 3.5
    # is over the threshold 2: 2.5 x (1 + ln(3.5 / 2)).
    assert (second.item_id, second.score) == ("a", pytest.approx(2.0))
    assert first.item_id == "b"
    assert first.score == pytest.approx(2.5 * (1 + 0.5596157879354227))


def test_buckets_outside_the_horizon_are_ignored() -> None:
    buckets = {NOW - 24: {"old": 100.0}, NOW - 23: {"recent": 1.0}, NOW + 1: {"future": 9.0}}
    ranked = trending_rank(buckets, now_hour=NOW, k=5, config=TrendingConfig())
    assert [s.item_id for s in ranked] == ["recent"]


def test_the_surge_ratio_is_smoothed() -> None:
    assert surge_ratio(last_hour=1, earlier=0, earlier_hours=23, prior=1) == 2.0
    assert surge_ratio(last_hour=0, earlier=23, earlier_hours=23, prior=1) == 0.5


def test_config_is_checked() -> None:
    with pytest.raises(ValueError, match="horizon_hours must be at least 2"):
        TrendingConfig(horizon_hours=1)
    with pytest.raises(ValueError, match="half_life_hours must be > 0"):
        TrendingConfig(half_life_hours=0)
