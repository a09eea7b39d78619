"""Writes to shops. Selectors (reads) are in selectors.py."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import transaction

from shopapp.redis import get_redis
from shopapp.shopify.auth import OfflineToken, TokenFailure, offline_token_refresh, refresh_due
from shopapp.shopify.graphql import AdminClient, ShopifyError, user_errors
from shopapp.shops.crypto import token_decrypt, token_encrypt, token_reencrypt
from shopapp.shops.models import Shop, ShopCredential, ShopSettings, WebhookDelivery
from shopapp.shops.selectors import shop_changed

log = logging.getLogger(__name__)

# Refresh a token when it has less than this left: beat runs every 5 minutes, so a token is
# refreshed with at least 15 minutes to spare, and one failed run is retried before it expires.
REFRESH_AHEAD = timedelta(minutes=20)


def shop_install(*, domain: str, token: OfflineToken | None = None) -> Shop:
    """Create the shop (or re-activate it after an uninstall), with default settings, and keep
    its access token when the install flow obtained one."""
    with transaction.atomic():
        shop, _ = Shop.objects.update_or_create(domain=domain, defaults={"uninstalled_at": None})
        ShopSettings.objects.get_or_create(shop=shop)
        if token is not None:
            credential_store(shop=shop, token=token)
    shop_changed(domain=domain)
    return shop


def credential_store(*, shop: Shop, token: OfflineToken) -> None:
    """Keep a (new or refreshed) token pair, encrypted."""
    ShopCredential.objects.update_or_create(
        shop=shop,
        defaults={
            "access_token": token_encrypt(token.access_token),
            "scopes": token.scopes,
            "expires_at": token.expires_at,
            "refresh_token": token_encrypt(token.refresh_token) if token.refresh_token else "",
            "refresh_token_expires_at": token.refresh_token_expires_at,
            "refresh_failed": "",
        },
    )


def credential_token(credential: ShopCredential) -> OfflineToken:
    """The decrypted token pair of a stored credential."""
    return OfflineToken(
        shop=credential.shop.domain,
        access_token=token_decrypt(credential.access_token),
        scopes=credential.scopes,
        expires_at=credential.expires_at,
        refresh_token=token_decrypt(credential.refresh_token) if credential.refresh_token else None,
        refresh_token_expires_at=credential.refresh_token_expires_at,
    )


def shop_uninstall(*, domain: str) -> bool:
    """app/uninstalled: the tokens are deleted at once, and tracking, recommending and publishing
    stop (every path checks the shop is active). Safe to repeat; False if the shop is unknown.
    The shop's data stays until shop/redact (Shopify sends it 48 hours later)."""
    with transaction.atomic():
        shop = Shop.objects.select_for_update().filter(domain=domain).first()
        if shop is None:
            return False
        ShopCredential.objects.filter(shop=shop).delete()
        if shop.uninstalled_at is None:
            shop.uninstalled_at = datetime.now(UTC)
            shop.save(update_fields=["uninstalled_at"])
    shop_changed(domain=domain)
    return True


def scopes_update(*, domain: str, scopes: str) -> None:
    """app/scopes_update: what the merchant granted now."""
    ShopCredential.objects.filter(shop__domain=domain).update(scopes=scopes)


def tokens_refresh(*, now: datetime | None = None) -> dict[str, int]:
    """Beat: refresh every active shop's token that expires within REFRESH_AHEAD, keeping the
    rotated refresh token. A refused refresh is recorded on the credential; the merchant's next
    visit to the app re-exchanges a session token for a new pair (web/auth.py:_ensure_token)."""
    current = now or datetime.now(UTC)
    due = ShopCredential.objects.select_related("shop").filter(
        shop__uninstalled_at__isnull=True,
        expires_at__lte=current + REFRESH_AHEAD,
        refresh_failed="",
    )
    counts = {"refreshed": 0, "failed": 0}
    for credential_id in due.values_list("id", flat=True):
        refreshed = _credential_refresh(credential_id=credential_id, now=current)
        if refreshed is not None:
            counts["refreshed" if refreshed else "failed"] += 1
    return counts


def _credential_refresh(*, credential_id: int, now: datetime) -> bool | None:
    """Refresh one credential under a row lock, so two beat runs never spend the same refresh
    token twice (Shopify rotates it: the second use would fail and lose the pair)."""
    with transaction.atomic():
        credential = (
            ShopCredential.objects.select_for_update(skip_locked=True)
            .select_related("shop")
            .filter(id=credential_id)
            .first()
        )
        if credential is None:
            return None  # another worker holds it, or it was deleted by an uninstall
        token = credential_token(credential)
        if not refresh_due(token, now=now, ahead=REFRESH_AHEAD):
            return None
        result = offline_token_refresh(token)
        if isinstance(result, TokenFailure):
            log.warning("token refresh for %s refused: %s", token.shop, result.reason)
            credential.refresh_failed = result.reason[:200]
            credential.save(update_fields=["refresh_failed", "updated_at"])
            return False
        credential_store(shop=credential.shop, token=result)
        return True


def tokens_rekey() -> int:
    """Re-encrypt every stored token under the newest key (after a key rotation)."""
    n = 0
    with transaction.atomic():
        for credential in ShopCredential.objects.select_for_update():
            credential.access_token = token_reencrypt(credential.access_token)
            if credential.refresh_token:
                credential.refresh_token = token_reencrypt(credential.refresh_token)
            credential.save(update_fields=["access_token", "refresh_token"])
            n += 1
    return n


def webhook_record(*, delivery_id: str, shop: str, topic: str, payload: dict[str, object]) -> bool:
    """Keep a verified webhook to run once; False when this delivery was seen before (Shopify
    retries, and may deliver the same event twice)."""
    _, created = WebhookDelivery.objects.get_or_create(
        delivery_id=delivery_id,
        defaults={"shop_domain": shop, "topic": topic, "payload": payload},
    )
    return created


def webhook_pending(*, delivery_id: str) -> WebhookDelivery | None:
    """The delivery if its handler has not run to the end yet."""
    return WebhookDelivery.objects.filter(delivery_id=delivery_id, processed_at=None).first()


def webhook_done(*, delivery_id: str) -> None:
    """Mark it handled and drop its payload (it may hold a customer's personal data)."""
    WebhookDelivery.objects.filter(delivery_id=delivery_id).update(
        processed_at=datetime.now(UTC), payload={}
    )


class NotInstalled(Exception):
    """The shop has no usable access token (uninstalled, or never installed)."""


def shop_admin_client(*, domain: str) -> AdminClient:
    """The Admin GraphQL client for a shop, with its current access token."""
    credential = (
        ShopCredential.objects.select_related("shop")
        .filter(shop__domain=domain, shop__uninstalled_at__isnull=True)
        .first()
    )
    if credential is None:
        raise NotInstalled(domain)
    return AdminClient(
        shop=domain, access_token=token_decrypt(credential.access_token), r=get_redis()
    )


def web_pixel_settings(*, shop: Shop) -> dict[str, str]:
    """The settings of web_pixel/shopify.extension.toml for this shop."""
    return {
        "collectorUrl": (
            f"{settings.SHOPIFY_APP_URL}/t/{shop.tracking_key}/com.snowplowanalytics.snowplow/tp2"
        ),
        "trackCarts": "false",  # the theme embed reports carts; the pixel only checkouts
    }


def web_pixel_ensure(*, domain: str) -> str:
    """Activate the web pixel on the shop (or bring its settings up to date); returns its id."""
    shop = Shop.objects.get(domain=domain)
    wanted = json.dumps(web_pixel_settings(shop=shop))
    with shop_admin_client(domain=domain) as client:
        existing = client.execute("web_pixel").get("webPixel")
        if existing:
            current = existing.get("settings")
            current = json.loads(current) if isinstance(current, str) else current
            if current == json.loads(wanted):
                return str(existing["id"])
            result = client.execute(
                "web_pixel_update", {"id": existing["id"], "webPixel": {"settings": wanted}}
            )["webPixelUpdate"]
        else:
            result = client.execute("web_pixel_create", {"webPixel": {"settings": wanted}})[
                "webPixelCreate"
            ]
    errors = user_errors(result)
    if errors:
        raise ShopifyError(f"web pixel refused: {errors}", errors)
    return str(result["webPixel"]["id"])


def shop_settings_update(*, shop: Shop, data: Mapping[str, object]) -> ShopSettings:
    """Save the merchant's settings, `data` as validated by the dashboard's SettingsForm (a
    field name that is not a setting raises ValueError, from `update_fields`)."""
    shop_settings = ShopSettings.objects.get(shop=shop)
    for field, value in data.items():
        setattr(shop_settings, field, value)
    shop_settings.save(update_fields=list(data))
    shop_changed(domain=shop.domain)
    return shop_settings
