"""shopify.app.toml agrees with the code: one API version, the routes it names exist, and every
subscribed topic has a handler (and every handler a subscription)."""

from __future__ import annotations

from django.urls import resolve

from shopapp.shopify.api import ADMIN_API_VERSION
from shopapp.shopify.appconfig import app_toml, webhook_topics
from workers.webhooks import HANDLERS


def test_webhooks_use_the_pinned_admin_api_version() -> None:
    assert app_toml()["webhooks"]["api_version"] == ADMIN_API_VERSION == "2026-10"


def test_every_subscribed_topic_has_a_handler() -> None:
    assert webhook_topics() == set(HANDLERS)
    compliance = {
        t for s in app_toml()["webhooks"]["subscriptions"] for t in s.get("compliance_topics", [])
    }
    assert compliance == {"customers/data_request", "customers/redact", "shop/redact"}


def test_the_uris_it_names_are_served() -> None:
    config = app_toml()
    for sub in config["webhooks"]["subscriptions"]:
        assert str(resolve(sub["uri"]).url_name).startswith("webhooks")
    assert resolve("/app").url_name == "app-home"
    assert resolve("/auth/callback").url_name == "oauth-callback"
    assert config["app_proxy"]["url"].endswith("/proxy")
    assert (config["app_proxy"]["prefix"], config["app_proxy"]["subpath"]) == ("apps", "slipstream")
    assert resolve("/proxy/recommendations").url_name == "proxy-recommendations"


def test_the_least_scopes() -> None:
    scopes = set(app_toml()["access_scopes"]["scopes"].split(","))
    assert scopes == {
        "read_products",
        "read_orders",
        "write_app_proxy",
        "write_pixels",
        "read_customer_events",
        "write_customers",  # the customer metafield pointing to their entry (decision 0007)
    }
    assert not any(
        s.startswith("write_") and s not in ("write_app_proxy", "write_pixels", "write_customers")
        for s in scopes
    )
