"""Every shopper gets a full list: the model's, topped up by co-visitation for what is in their
window, then trending, then popular; the post-filters apply to every source."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from recommender.popularity import Popularity, PopularityConfig
from recommender.types import Interaction as Seen
from shopapp.events.models import Interaction
from shopapp.events.normalise import InteractionRecord
from shopapp.events.services import interactions_ingest
from shopapp.recs.services import (
    covisit_refresh,
    recommendations_refresh,
    trending_refresh,
)
from shopapp.recs.store import (
    StoredRecs,
    covisit_read,
    covisit_write,
    popular_write,
    trending_read,
    trending_write,
)
from shopapp.redis import get_redis
from shopapp.shops.models import Shop, ShopSettings
from tests.conftest import shop_model_serve

NOW = 1_767_225_600.0


@pytest.fixture
def champion(settings, tmp_path: Path, shop: str) -> None:
    """The shop's serving model, which knows only two products, so it cannot fill a list of six."""
    settings.MLFLOW_TRACKING_URI = f"sqlite:///{tmp_path / 'mlflow.db'}"
    settings.MLFLOW_ARTIFACT_ROOT = str(tmp_path / "artifacts")
    seen = [
        Seen(user_id=f"p{n}", item_id=item, interaction="view", ts=1.7e9)
        for n, item in enumerate(["m1", "m1", "m2"])
    ]
    shop_model_serve(shop, Popularity.fit(seen, PopularityConfig()))


def _viewed(shop: str, *, user_id: str, item_id: str) -> None:
    """One product view, ingested as the worker ingests it (window and history)."""
    interactions_ingest(
        shop=shop,
        records=[
            InteractionRecord(
                shop=shop,
                user_id=user_id,
                item_id=item_id,
                interaction="view",
                ts=time.time(),
                event_id=f"{user_id}-{item_id}",
            )
        ],
    )


def _list(items: list[str], source: str) -> StoredRecs:
    return StoredRecs(
        items=items, scores=[1.0] * len(items), model_version=source, source=source, computed_at=NOW
    )


def test_a_short_model_list_is_filled_covisit_then_trending_then_popular(shop: str, champion: None):
    ShopSettings.objects.filter(shop__domain=shop).update(
        recommendation_count=6, excluded_product_ids=["t2"]
    )
    r = get_redis()
    covisit_write(r=r, shop=shop, table={"w1": [("c1", 2.0), ("m1", 1.5), ("c2", 1.0)]})
    trending_write(r=r, shop=shop, recs=_list(["c1", "t1", "t2", "t3"], "trending"))
    popular_write(r=r, shop=shop, recs=_list(["p1", "p2", "p3"], "popular"))
    _viewed(shop, user_id="u1", item_id="w1")

    recs = recommendations_refresh(shop=shop, user_ids=["u1"])["u1"]

    # model: m1, m2 (all it knows); covisit of w1: c1, c2 (m1 taken); trending: t1, t3 (c1 taken,
    # t2 excluded by the merchant) fills the six.
    assert recs.items == ["m1", "m2", "c1", "c2", "t1", "t3"]
    assert recs.source == "model:popularity+covisit+trending"
    assert recs.scores[2:] == [0.0] * 4


def test_popular_fills_what_trending_cannot(shop: str, champion: None):
    ShopSettings.objects.filter(shop__domain=shop).update(recommendation_count=4)
    popular_write(r=get_redis(), shop=shop, recs=_list(["p1", "p2"], "popular"))
    _viewed(shop, user_id="u1", item_id="w1")
    recs = recommendations_refresh(shop=shop, user_ids=["u1"])["u1"]
    assert recs.items == ["m1", "m2", "p1", "p2"]
    assert recs.source == "model:popularity+popular"


def test_trending_refresh_ranks_the_last_day(shop: str):
    from shopapp.events.trending import trending_count

    records = [
        InteractionRecord(
            shop=shop, user_id="u", item_id=item, interaction=kind, ts=NOW - age, event_id=f"e{n}"
        )
        for n, (item, kind, age) in enumerate(
            [("a", "view", 10), ("a", "view", 20), ("b", "purchase", 30), ("c", "view", 30 * 3600)]
        )
    ]
    trending_count(r=get_redis(), shop=shop, records=records)
    recs = trending_refresh(shop=shop, now=NOW)
    assert recs is not None
    assert recs.items == ["b", "a"]  # c is older than the day's horizon
    assert trending_read(r=get_redis(), shop=shop) == recs


def test_covisit_refresh_builds_the_table_from_history(shop: str):
    shop_obj = Shop.objects.get(domain=shop)
    from datetime import UTC, datetime

    for n, (user, item, at) in enumerate(
        [("u1", "a", 0), ("u1", "b", 60), ("u2", "a", 0), ("u2", "b", 30), ("u3", "z", 0)]
    ):
        Interaction.objects.create(
            shop=shop_obj,
            user_id=user,
            item_id=item,
            interaction="view",
            ts=datetime.fromtimestamp(NOW - 3600 + at, UTC),
            event_id=f"e{n}",
        )
    assert covisit_refresh(shop=shop, now=NOW) == 2
    table = covisit_read(r=get_redis(), shop=shop, items=["a", "b", "z"])
    assert sorted(table) == ["a", "b"]
    assert [n for n, _ in table["a"]] == ["b"]
