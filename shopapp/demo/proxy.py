"""The demo's stand-in for Shopify's app proxy (SLIPSTREAM_DEMO_APP_PROXY: `manage.py demo` only).

On a real store, https://{shop}/apps/slipstream/<path> reaches /proxy/<path> with Shopify's signed
parameters. The demo storefront has no Shopify in front of it, so this view adds and signs the same
parameters and redirects (307, so a POST stays a POST with its body), and the real, verifying proxy
view answers. It signs whatever a browser sends, so it signs with the demo's own random secret
(shopapp/demo/secret.py), which nothing but the demo's own processes accepts.
"""

from __future__ import annotations

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt

from shopapp.shopify.signatures import PROXY_RESERVED, app_proxy_sign

DEMO_SHOP = "slipstream-demo.myshopify.com"


@csrf_exempt
def app_proxy(request: HttpRequest, path: str) -> HttpResponse:
    if not settings.DEMO_APP_PROXY or not settings.DEMO_APP_PROXY_SECRET:
        raise Http404("the demo app proxy is off")
    params = {k: v for k, v in request.GET.dict().items() if k not in PROXY_RESERVED}
    params.update(
        {"shop": DEMO_SHOP, "logged_in_customer_id": "", "path_prefix": "/apps/slipstream"}
    )
    query = app_proxy_sign(params=params, secret=settings.DEMO_APP_PROXY_SECRET)
    response = HttpResponse(status=307)
    response["Location"] = f"/proxy/{path}?{query}"
    response["Cache-Control"] = "no-store"
    return response
