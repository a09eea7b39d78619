from django.urls import path

from shopapp.demo import admin as demo_admin
from shopapp.demo import images as demo_images
from shopapp.demo import proxy as demo_proxy
from shopapp.demo import views as demo
from shopapp.web import auth, collector, dashboard, exports, health, proxy, webhooks

urlpatterns = [
    path("t/<str:key>/com.snowplowanalytics.snowplow/tp2", collector.tp2, name="collector-tp2"),
    path("t/<str:key>/i", collector.pixel, name="collector-pixel"),
    path("com.snowplowanalytics.snowplow/tp2", collector.tp2),  # key in ?tk=
    path("i", collector.pixel),  # key in ?tk=
    path("proxy/tp2", collector.proxy_tp2, name="proxy-tp2"),
    path("proxy/i", collector.proxy_pixel, name="proxy-pixel"),
    path("proxy/recommendations", proxy.recommendations, name="proxy-recommendations"),
    path("health", health.health, name="health"),
    # The embedded app (application_url) and its sign-in (shopify.app.toml).
    path("app", dashboard.overview, name="app-home"),
    path("app/settings", dashboard.settings_page, name="app-settings"),
    path("app/models", dashboard.models_page, name="app-models"),
    path("app/data", dashboard.data_page, name="app-data"),
    path("app/api/session", auth.session_check, name="app-session"),
    path("app/api/overview", dashboard.overview_api, name="app-api-overview"),
    path("app/api/settings", dashboard.settings_api, name="app-api-settings"),
    path("app/api/models/promote", dashboard.promote_api, name="app-api-promote"),
    path("app/api/models/retrain", dashboard.retrain_api, name="app-api-retrain"),
    path(
        "app/api/models/retrain/status", dashboard.retrain_status_api, name="app-api-retrain-status"
    ),
    path("app/api/import", dashboard.import_api, name="app-api-import"),
    path("app/api/events/latest", dashboard.latest_events_api, name="app-api-latest-events"),
    path("app/api/exports", exports.exports_api, name="app-api-exports"),
    path("app/api/exports/<int:export_id>", exports.export_download, name="app-api-export"),
    path("auth/patch-id-token", auth.patch_id_token, name="patch-id-token"),
    path("auth/install", auth.oauth_install, name="oauth-install"),
    path("auth/callback", auth.oauth_callback, name="oauth-callback"),
    path("webhooks", webhooks.webhook, name="webhooks"),
    path("webhooks/compliance", webhooks.webhook, name="webhooks-compliance"),
    # The demo: a storefront, the signing stand-in app proxy in front of it, and a stand-in admin
    # (demo/admin.py). They answer 404 unless `manage.py demo` turned them on
    # (SLIPSTREAM_DEMO_APP_PROXY) for the processes it runs.
    path("apps/slipstream/<path:path>", demo_proxy.app_proxy, name="demo-app-proxy"),
    path("demo/store/", demo.store_index, name="demo-store"),
    # Product pages at the path a Shopify storefront uses, so the block's card links work unchanged.
    path("products/<slug:handle>", demo.product_page, name="demo-product"),
    path("demo/images/<slug:product_id>.svg", demo_images.product_image, name="demo-image"),
    path("demo/dashboard/", demo.dashboard, name="demo-dashboard"),
    path("cart/add", demo.cart_add, name="demo-cart-add"),
    # The merchant's side: a stand-in admin framing the real embedded app, with session tokens.
    path("demo/admin/", demo_admin.admin_page, name="demo-admin"),
    path("demo/admin/token", demo_admin.admin_token, name="demo-admin-token"),
    path("demo/admin/<slug:page>", demo_admin.admin_page, name="demo-admin-page"),
]
