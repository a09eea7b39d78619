"""The merchant's embedded dashboard: overview, settings, models, data.

Pages are documents the admin loads with an `id_token` (`embedded_page`); what they change goes
through `/app/api/*` with `Authorization: Bearer <session token>` (`session_required`), which
App Bridge adds to `fetch`. Pages are server-rendered with Polaris web components, so they stay
readable when Shopify's CDN scripts do not load.
"""

from __future__ import annotations

import json
import statistics
import time
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.safestring import SafeString
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from recommender import registry
from shopapp.events.importing import ImportFileError, interactions_file_import
from shopapp.events.rejections import rejections_list
from shopapp.events.selectors import (
    active_shoppers,
    events_per_minute,
    events_since,
    latest_interactions,
)
from shopapp.privacy.selectors import exports_list
from shopapp.recs.models import Product
from shopapp.recs.predictors import predictor_get
from shopapp.recs.selectors import recommendation_performance
from shopapp.recs.store import freshness_samples, served_counts
from shopapp.recs.training import KINDS
from shopapp.redis import get_redis
from shopapp.shopify.auth import Session
from shopapp.shops.models import (
    HISTORY_RETENTION_MAX_DAYS,
    HISTORY_RETENTION_MIN_DAYS,
    Shop,
    ShopSettings,
)
from shopapp.shops.selectors import shop_cache_clear
from shopapp.web.auth import embedded_page, session_required
from shopapp.web.charts import overview_charts
from workers.tasks import TRAIN_STATUS_KEY, retrain_models

IMPORT_MAX_BYTES = 20 * 1024 * 1024
IMPORT_ERRORS_SHOWN = 200


def _session(request: HttpRequest) -> Session:
    return request.shopify_session  # type: ignore[attr-defined]


def _shop(request: HttpRequest) -> Shop:
    return Shop.objects.select_related("settings").get(domain=_session(request).shop)


def _page(request: HttpRequest, template: str, context: dict[str, Any]) -> HttpResponse:
    session = _session(request)
    # Links to the other pages keep the admin's parameters, not the (one-minute) id_token.
    nav = {k: request.GET[k] for k in ("shop", "host", "embedded") if request.GET.get(k)}
    return render(
        request,
        template,
        {
            "shop": session.shop,
            "api_key": settings.SHOPIFY_API_KEY,
            "nav_query": urlencode(nav),
            # The page's own token, for fetches when App Bridge (the CDN) is not there.
            "page_token_json": json.dumps(request.GET.get("id_token", "")).replace("<", "\\u003c"),
            "active": template.rsplit("/", 1)[-1].removesuffix(".html"),
            **context,
        },
    )


def overview_figures(shop: Shop) -> dict[str, Any]:
    now = time.time()
    per_minute = events_per_minute(shop_id=shop.pk, until=now)
    performance = recommendation_performance(
        shop=shop.domain,
        since=datetime.fromtimestamp(now, UTC) - timedelta(days=1),
        until=datetime.fromtimestamp(now, UTC),
    )
    hour = int(now // 3600)
    served = served_counts(r=get_redis(), shop=shop.domain, hours=list(range(hour - 23, hour + 1)))
    fresh = freshness_samples(r=get_redis(), shop=shop.domain)
    predictor = predictor_get(kind=settings.SERVING_MODEL_KIND, alias=shop.settings.serving_alias)
    return {
        "events_last_minute": events_since(shop_id=shop.pk, since=now - 60),
        "events_per_minute": per_minute,
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
        "model": f"{predictor.name} v{predictor.version}" if predictor else None,
    }


@require_GET
@embedded_page
def overview(request: HttpRequest) -> HttpResponse:
    shop = _shop(request)
    figures = overview_figures(shop)
    events_24h = (
        sum(figures["events_per_minute"])
        or shop.interactions.filter(ts__gte=datetime.now(UTC) - timedelta(days=1)).exists()
    )
    editor = f"https://{shop.domain}/admin/themes/current/editor"
    checklist = [
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
            "done": Product.objects.filter(shop=shop).exists(),
            "title": "Catalogue synced",
            "detail": f"{Product.objects.filter(shop=shop).count()} products",
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
    return _page(
        request,
        "app/overview.html",
        {
            "figures": figures,
            "checklist": checklist,
            "charts": _charts(figures),
        },
    )


def _charts(figures: dict[str, Any]) -> dict[str, SafeString]:
    return overview_charts(
        events_per_minute=figures["events_per_minute"],
        served_per_hour=figures["served_per_hour"],
        now=time.time(),
    )


@require_GET
@session_required
def overview_api(request: HttpRequest) -> JsonResponse:
    """The overview's live refresh: its figures, and its charts as the page renders them."""
    figures = overview_figures(_shop(request))
    return JsonResponse({**figures, "charts": _charts(figures)})


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
        bad = [i for i in ids if not i.isdigit()]
        if bad:
            raise forms.ValidationError(f"Not product ids: {', '.join(bad[:5])}")
        return list(dict.fromkeys(ids))


def _bounded(value: int, low: int, high: int, unit: str) -> int:
    if value is None or not low <= value <= high:
        raise forms.ValidationError(f"From {low} to {high} {unit}.")
    return int(value)


@require_GET
@embedded_page
def settings_page(request: HttpRequest) -> HttpResponse:
    shop_settings = _shop(request).settings
    form = SettingsForm(
        instance=shop_settings,
        initial={"excluded_product_ids": ", ".join(shop_settings.excluded_product_ids)},
    )
    return _page(request, "app/settings.html", {"form": form})


@csrf_exempt  # authenticated by the session token in a header, which a forged form cannot send
@require_POST
@session_required
def settings_api(request: HttpRequest) -> JsonResponse:
    form = SettingsForm(request.POST, instance=_shop(request).settings)
    if not form.is_valid():
        return JsonResponse({"errors": form.errors.get_json_data()}, status=400)
    form.save()
    shop_cache_clear()  # this process at once; every other within its 5 s cache
    return JsonResponse({"saved": True})


@require_GET
@embedded_page
def models_page(request: HttpRequest) -> HttpResponse:
    uri = settings.MLFLOW_TRACKING_URI
    kinds = [
        {
            "kind": kind,
            "serving": kind == settings.SERVING_MODEL_KIND,
            "versions": registry.model_versions(kind=kind, tracking_uri=uri),
        }
        for kind in KINDS
    ]
    status = get_redis().get(TRAIN_STATUS_KEY)
    return _page(
        request,
        "app/models.html",
        {"kinds": kinds, "training": json.loads(status) if status else None},
    )


@csrf_exempt
@require_POST
@session_required
def promote_api(request: HttpRequest) -> JsonResponse:
    """Make a version the champion: a promotion, or a roll-back to an older one."""
    kind, version = request.POST.get("kind", ""), request.POST.get("version", "")
    uri = settings.MLFLOW_TRACKING_URI
    if kind not in KINDS:
        return JsonResponse({"error": "unknown model kind"}, status=400)
    known = {v.version for v in registry.model_versions(kind=kind, tracking_uri=uri)}
    if version not in known:
        return JsonResponse({"error": "unknown version"}, status=400)
    registry.set_alias(kind=kind, alias="champion", version=version, tracking_uri=uri)
    return JsonResponse({"champion": version})


@csrf_exempt
@require_POST
@session_required
def retrain_api(request: HttpRequest) -> JsonResponse:
    get_redis().set(
        TRAIN_STATUS_KEY, json.dumps({"state": "queued", "at": time.time()}), ex=7 * 24 * 3600
    )
    retrain_models.delay()
    return JsonResponse({"state": "queued"}, status=202)


@require_GET
@session_required
def retrain_status_api(request: HttpRequest) -> JsonResponse:
    status = get_redis().get(TRAIN_STATUS_KEY)
    return JsonResponse(json.loads(status) if status else {"state": "idle"})


@require_GET
@embedded_page
def data_page(request: HttpRequest) -> HttpResponse:
    shop = _shop(request)
    return _page(
        request,
        "app/data.html",
        {
            "latest": latest_interactions(shop_id=shop.pk),
            "rejected": rejections_list(shop=shop.domain, limit=50),
            "exports": exports_list(shop_domain=shop.domain),
        },
    )


@csrf_exempt
@require_POST
@session_required
def import_api(request: HttpRequest) -> JsonResponse:
    """Historical interactions (CSV or JSON Lines with user_id, item_id, interaction_type,
    timestamp): the good rows kept, each bad one reported with its number and reason."""
    upload = request.FILES.get("file")
    if upload is None:
        return JsonResponse({"error": "no file"}, status=400)
    if upload.size and upload.size > IMPORT_MAX_BYTES:
        return JsonResponse({"error": "file larger than 20 MB: split it"}, status=413)
    try:
        report = interactions_file_import(
            shop=_session(request).shop, filename=upload.name or "", data=upload.read()
        )
    except ImportFileError as exc:
        return JsonResponse({"error": str(exc)}, status=400)
    return JsonResponse(
        {
            "rows": report.rows,
            "accepted": report.accepted,
            "rejected": len(report.errors),
            "errors": [
                {"line": n, "reason": reason} for n, reason in report.errors[:IMPORT_ERRORS_SHOWN]
            ],
        }
    )


@require_GET
@session_required
def latest_events_api(request: HttpRequest) -> JsonResponse:
    """The data page's live view: the newest interactions as normalised."""
    shop = _shop(request)
    return JsonResponse(
        {
            "events": [
                {
                    "ts": e.ts.strftime("%Y-%m-%d %H:%M:%S"),
                    "user_id": e.user_id,
                    "interaction": e.interaction,
                    "item_id": e.item_id,
                    "event_id": e.event_id,
                }
                for e in latest_interactions(shop_id=shop.pk)
            ]
        }
    )
