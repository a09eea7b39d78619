"""The app's URLs. While the demo is on, shopapp/demo/urls.py serves these and its own."""

from django.urls import path

from shopapp.web import auth, collector, exports, health, proxy, webhooks
from shopapp.web.dashboard import api, pages

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
    path("app", pages.overview, name="app-home"),
    path("app/settings", pages.settings_page, name="app-settings"),
    path("app/models", pages.models_page, name="app-models"),
    path("app/data", pages.data_page, name="app-data"),
    path("app/api/session", auth.session_check, name="app-session"),
    path("app/api/overview", api.overview_api, name="app-api-overview"),
    path("app/api/settings", api.settings_api, name="app-api-settings"),
    path("app/api/models/promote", api.promote_api, name="app-api-promote"),
    path("app/api/models/retrain", api.retrain_api, name="app-api-retrain"),
    path("app/api/models/pin", api.pin_api, name="app-api-pin"),
    path("app/api/models/retrain/status", api.retrain_status_api, name="app-api-retrain-status"),
    path("app/api/import", api.import_api, name="app-api-import"),
    path("app/api/events/latest", api.latest_events_api, name="app-api-latest-events"),
    path("app/api/exports", exports.exports_api, name="app-api-exports"),
    path("app/api/exports/<int:export_id>", exports.export_download, name="app-api-export"),
    path("auth/patch-id-token", auth.patch_id_token, name="patch-id-token"),
    path("auth/install", auth.oauth_install, name="oauth-install"),
    path("auth/callback", auth.oauth_callback, name="oauth-callback"),
    path("webhooks", webhooks.webhook, name="webhooks"),
    path("webhooks/compliance", webhooks.webhook, name="webhooks-compliance"),
]
