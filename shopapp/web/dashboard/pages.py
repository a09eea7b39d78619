"""The dashboard's pages, each a document the admin loads with an `id_token`: read, render."""

from __future__ import annotations

from django.http import HttpResponse
from django.views.decorators.http import require_GET

from shopapp.events.rejections import rejections_list
from shopapp.events.selectors import latest_interactions
from shopapp.privacy.selectors import exports_list
from shopapp.recs.champions import decision_latest, model_versions_list, serving_model_get
from shopapp.recs.training import RETRAINED
from shopapp.recs.training_status import training_status_get
from shopapp.web.auth import ShopifyRequest, embedded_page
from shopapp.web.dashboard.common import page_render, shop_of
from shopapp.web.dashboard.overview import (
    overview_charts_render,
    overview_checklist,
    overview_figures,
)
from shopapp.web.forms import SettingsForm


@require_GET
@embedded_page
def overview(request: ShopifyRequest) -> HttpResponse:
    shop = shop_of(request)
    figures = overview_figures(shop)
    return page_render(
        request,
        "app/overview.html",
        {
            "figures": figures,
            "checklist": overview_checklist(shop, figures),
            "charts": overview_charts_render(figures),
        },
    )


@require_GET
@embedded_page
def settings_page(request: ShopifyRequest) -> HttpResponse:
    shop_settings = shop_of(request).settings
    form = SettingsForm(
        instance=shop_settings,
        initial={"excluded_product_ids": ", ".join(shop_settings.excluded_product_ids)},
    )
    return page_render(request, "app/settings.html", {"form": form})


@require_GET
@embedded_page
def models_page(request: ShopifyRequest) -> HttpResponse:
    shop = request.shopify_session.shop
    serving = serving_model_get(shop=shop)
    kinds = [
        {
            "kind": kind,
            "serving": serving is not None and kind == serving.kind,
            "versions": model_versions_list(shop=shop, kind=kind),
        }
        for kind in RETRAINED
    ]
    return page_render(
        request,
        "app/models.html",
        {
            "kinds": kinds,
            "serving": serving,
            "decision": decision_latest(shop=shop),
            "training": training_status_get(shop=shop),
        },
    )


@require_GET
@embedded_page
def data_page(request: ShopifyRequest) -> HttpResponse:
    shop = shop_of(request)
    return page_render(
        request,
        "app/data.html",
        {
            "latest": latest_interactions(shop_id=shop.pk),
            "rejected": rejections_list(shop=shop.domain, limit=50),
            "exports": exports_list(shop_domain=shop.domain),
        },
    )
