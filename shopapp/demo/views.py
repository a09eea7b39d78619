"""The demo storefront, served only while the demo is on (the merchant's side: demo/admin.py).

The storefront pages load the theme extension's real assets (tracker.js, recommendations.js) and
render its real block Liquid (demo/liquid.py), so the demo exercises the code a real store runs.
"""

from __future__ import annotations

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render

from shopapp.demo.liquid import block_render, liquid_product
from shopapp.demo.proxy import DEMO_SHOP
from shopapp.recs.models import Product


def _require_demo() -> None:
    if not settings.DEMO_APP_PROXY:
        raise Http404("the demo is off")


BLOCK_SETTINGS = {"title": "", "count": 4, "layout": "grid", "live": True}


def store_index(request: HttpRequest) -> HttpResponse:
    _require_demo()
    products = Product.objects.filter(shop__domain=DEMO_SHOP).order_by("category", "title")
    block_html = block_render(
        block="recommendations", settings_=BLOCK_SETTINGS, template_name="index", block_id="home"
    )
    return render(
        request,
        "demo/store.html",
        {"products": products, "shop": DEMO_SHOP, "block_html": block_html},
    )


def product_page(request: HttpRequest, handle: str) -> HttpResponse:
    _require_demo()
    product = Product.objects.filter(shop__domain=DEMO_SHOP, handle=handle).first()
    if product is None:
        raise Http404("no such product")
    block_html = block_render(
        block="recommendations",
        settings_=BLOCK_SETTINGS,
        template_name="product",
        product=liquid_product(
            product_id=product.product_id,
            title=product.title,
            handle=product.handle,
            price=product.price,
            image_url=product.image_url,
        ),
        block_id="product",
    )
    return render(
        request,
        "demo/product.html",
        {"product": product, "shop": DEMO_SHOP, "block_html": block_html},
    )


def cart_add(request: HttpRequest) -> HttpResponse:
    """The demo store's /cart/add: the tracker already recorded the add; go back to the page."""
    _require_demo()
    return HttpResponseRedirect(request.headers.get("Referer") or "/demo/store/")


def dashboard(request: HttpRequest) -> HttpResponse:
    """The old read-only overview's address: now the merchant's real dashboard, in the admin."""
    _require_demo()
    return HttpResponseRedirect("/demo/admin/")
