"""shopify.app.toml, the app's configuration as Shopify deploys it, read where the code needs it,
so scopes and webhook topics are written down once."""

from __future__ import annotations

import tomllib
from functools import cache
from typing import Any

from django.conf import settings


@cache
def app_toml() -> dict[str, Any]:
    with open(settings.BASE_DIR / "shopify.app.toml", "rb") as f:
        return tomllib.load(f)


def app_scopes() -> str:
    return str(app_toml()["access_scopes"]["scopes"])


def webhook_topics() -> set[str]:
    """Every topic the app subscribes to, compliance topics included."""
    topics: set[str] = set()
    for sub in app_toml()["webhooks"]["subscriptions"]:
        topics.update(sub.get("topics", []))
        topics.update(sub.get("compliance_topics", []))
    return topics
