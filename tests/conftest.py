"""Shared fixtures. Tests use real services: the database and Redis the settings point at
(CI: PostgreSQL and Redis on localhost; a fresh clone: SQLite and the project's own Redis)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import redis
from django.conf import settings

from shopapp import celery_app
from shopapp.redis import get_redis, redis_url

if TYPE_CHECKING:
    from tests.fakeshopify import FakeShopify

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
# Tests keep to their own Redis database, so a demo running on the same server is left alone.
TEST_REDIS_DB = 15


def _test_redis_url() -> str:
    # Without a REDIS_URL, the project's own Redis: started here, unless one already runs.
    base = redis.connection.parse_url(redis_url())
    return f"redis://{base.get('host', '127.0.0.1')}:{base.get('port', 6379)}/{TEST_REDIS_DB}"


@pytest.fixture(scope="session", autouse=True)
def _isolated_redis() -> Iterator[str]:
    url = _test_redis_url()
    settings.REDIS_URL = url
    settings.CELERY_BROKER_URL = url
    celery_app.conf["broker_url"] = url
    get_redis.cache_clear()
    get_redis().flushdb()
    yield url
    get_redis().flushdb()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """The project's own Redis (shopapp/devredis.py, started by `_isolated_redis` when there is no
    REDIS_URL) stops with the session that started it; one already running, a demo's say, stays."""
    from shopapp.devredis import local_redis_started_here, local_redis_stop

    if local_redis_started_here(settings.VAR_DIR):
        local_redis_stop(settings.VAR_DIR)


@pytest.fixture
def demo_app(settings: Any) -> None:
    """The demo installed for this test, as SLIPSTREAM_DEMO installs it for `manage.py demo` and
    its processes (shopapp/settings.py:DEMO_SETTINGS); the session runs without it, as production
    does. Through `settings`, so the test's own overrides unwind in order with these."""
    for name, value in settings.DEMO_SETTINGS.items():
        setattr(settings, name, value)


@pytest.fixture
def empty_event_log() -> Iterator[None]:
    """The event log (the collector's Redis Stream) empty before and after the test."""
    from shopapp.events.stream import STREAM

    get_redis().delete(STREAM)
    yield
    get_redis().delete(STREAM)


@pytest.fixture
def shop_domain() -> str:
    """A fresh shop domain per test, so Redis keys never collide between tests."""
    return f"test-{uuid.uuid4().hex[:10]}.myshopify.com"


@pytest.fixture
def shop(db: None, shop_domain: str) -> str:
    from shopapp.shops.services import shop_install

    shop_install(domain=shop_domain)
    return shop_domain


def shared_data(name: str) -> Path:
    """A dataset of ../shared/data; skips with the reason when absent (never under CI=true)."""
    path = SHARED_DATA / name
    if not path.exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{path} is required under CI=true")
        pytest.skip(f"{path} is absent (public datasets live beside the repo in ../shared/data)")
    return path


@pytest.fixture
def tracking_key(shop: str) -> str:
    from shopapp.shops.models import Shop

    return Shop.objects.values_list("tracking_key", flat=True).get(domain=shop)


@pytest.fixture
def fake(settings: Any) -> Iterator[FakeShopify]:
    """A stand-in Shopify on a free local port; Shopify-bound HTTP goes to it."""
    from tests.fakeshopify import FakeShopify, FakeShopifyServer

    with FakeShopifyServer(
        FakeShopify(client_id=settings.SHOPIFY_API_KEY, client_secret=settings.SHOPIFY_API_SECRET)
    ) as running:
        settings.SHOPIFY_ORIGIN_OVERRIDE = running.origin
        yield running


@pytest.fixture
def installed(fake: FakeShopify, shop: str) -> str:
    """`shop`, holding an offline token the stand-in Shopify issued (as after an install)."""
    from shopapp.shopify.auth import OfflineToken
    from shopapp.shops.services import shop_install

    reply = fake._issue(shop, expiring=True)
    shop_install(
        domain=shop,
        token=OfflineToken(
            shop=shop,
            access_token=reply["access_token"],
            scopes=reply["scope"],
            expires_at=None,
            refresh_token=reply["refresh_token"],
            refresh_token_expires_at=None,
        ),
    )
    return shop


def shop_model_serve(
    shop: str,
    model: Any,
    *,
    alias: str | None = "champion",
    tracking_uri: str | None = None,
    artifact_location: str | None = None,
) -> str:
    """Register ``model`` among the shop's own models (in the test's MLflow settings, unless
    given) and make its kind the one that serves the shop, as a retraining's decision would;
    returns its version."""
    from django.conf import settings

    from recommender import registry
    from shopapp.shops.models import Shop, ShopSettings
    from shopapp.shops.selectors import shop_cache_clear

    row = Shop.objects.get(domain=shop)
    version = registry.log_and_register(
        model=model,
        metrics={},
        params={},
        tracking_uri=tracking_uri or settings.MLFLOW_TRACKING_URI,
        artifact_location=artifact_location or settings.MLFLOW_ARTIFACT_ROOT,
        alias=alias,
        namespace=row.model_namespace,
    )
    ShopSettings.objects.update_or_create(shop=row, defaults={"serving_kind": model.kind})
    shop_cache_clear()
    return version
