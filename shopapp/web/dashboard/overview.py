"""What the overview shows: the live figures (the page's first render and its 10 s refresh read
the same), their charts, and the set-up checklist."""

from __future__ import annotations

import statistics
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.utils.safestring import SafeString

from shopapp.events.selectors import active_shoppers, events_per_minute, events_since
from shopapp.recs.champions import serving_model_get
from shopapp.recs.models import Product
from shopapp.recs.selectors import recommendation_performance
from shopapp.recs.store import freshness_samples, served_counts
from shopapp.redis import get_redis
from shopapp.shops.models import Shop
from shopapp.web.charts import overview_charts


def overview_figures(shop: Shop) -> dict[str, Any]:
    now = time.time()
    performance = recommendation_performance(
        shop=shop.domain,
        since=datetime.fromtimestamp(now, UTC) - timedelta(days=1),
        until=datetime.fromtimestamp(now, UTC),
    )
    hour = int(now // 3600)
    served = served_counts(r=get_redis(), shop=shop.domain, hours=list(range(hour - 23, hour + 1)))
    fresh = freshness_samples(r=get_redis(), shop=shop.domain)
    # Named from the registry's alias, not loaded: the web process never holds a model.
    model = serving_model_get(shop=shop.domain)
    return {
        "events_last_minute": events_since(shop_id=shop.pk, since=now - 60),
        "events_per_minute": events_per_minute(shop_id=shop.pk, until=now),
        "active_shoppers": active_shoppers(shop_id=shop.pk, until=now),
        "served_24h": sum(served.values()),
        "served_per_hour": list(served.values()),
        "impressions": performance.impressions,
        "clicks": performance.clicks,
        "ctr_percent": round(performance.click_through_rate * 100, 2),
        "attributed_purchases": performance.attributed_purchases,
        "attributed_revenue": str(performance.attributed_revenue),
        "freshness_p95_ms": round(statistics.quantiles(fresh, n=20)[-1], 1)
        if len(fresh) >= 20
        else None,
        "model": f"{model.name} v{model.version}" if model else None,
    }


def overview_charts_render(figures: dict[str, Any]) -> dict[str, SafeString]:
    return overview_charts(
        events_per_minute=figures["events_per_minute"],
        served_per_hour=figures["served_per_hour"],
        now=time.time(),
    )


def overview_checklist(shop: Shop, figures: dict[str, Any]) -> list[dict[str, Any]]:
    """The steps from install to a serving block, each done or with the link that does it."""
    events_24h = (
        sum(figures["events_per_minute"])
        or shop.interactions.filter(ts__gte=datetime.now(UTC) - timedelta(days=1)).exists()
    )
    editor = f"https://{shop.domain}/admin/themes/current/editor"
    products = Product.objects.filter(shop=shop).count()
    return [
        {
            "done": bool(events_24h),
            "title": "Turn on the Slipstream tracker in your theme",
            "detail": "Events arriving" if events_24h else "No events in the last 24 hours yet",
            "href": f"{editor}?context=apps&activateAppId={settings.SHOPIFY_API_KEY}/tracker",
            "action": "Open the theme editor",
        },
        {
            "done": figures["served_24h"] > 0,
            "title": "Add the recommendations block to your product page",
            "detail": f"{figures['served_24h']} lists served in 24 hours",
            "href": (
                f"{editor}?template=product&addAppBlockId={settings.SHOPIFY_API_KEY}"
                "/recommendations&target=mainSection"
            ),
            "action": "Add the block",
        },
        {
            "done": products > 0,
            "title": "Catalogue synced",
            "detail": f"{products} products",
            "href": "",
            "action": "",
        },
        {
            "done": figures["model"] is not None,
            "title": "A model is serving",
            "detail": figures["model"] or "none yet",
            "href": "",
            "action": "",
        },
    ]
