"""Who is calling from the admin, and the shop's access tokens: session tokens, token exchange,
refresh, and the legacy authorization-code grant.

`shopifyapp` verifies session tokens and performs token exchange and refresh
(docs/decisions/0001-shopifyapp-over-shopifyapi.md). It does not check that a session token's `iss`
and `dest` name the same shop, and it has no authorization-code grant; those two are here, small.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode, urlparse

import httpx
from django.conf import settings
from shopify_app import (
    app_home_patch_id_token,
    refresh_access_token,
    token_exchange,
    verify_app_home_req,
)

from shopapp.shopify.appconfig import app_scopes
from shopapp.shopify.domains import shop_domain_clean
from shopapp.shopify.http import shopify_http_client
from shopapp.shopify.signatures import app_config

PATCH_ID_TOKEN_PATH = "/auth/patch-id-token"
OAUTH_TIMESTAMP_WINDOW_S = 90  # as Shopify's own libraries allow


@dataclass(frozen=True, slots=True)
class Session:
    """A verified App Bridge session token (ID token): the shop and the admin user."""

    shop: str
    user_id: str | None
    id_token: Any  # shopifyapp's IdTokenDetails, what token exchange takes
    headers: dict[str, str]  # what the response must carry (CSP frame-ancestors on documents)


@dataclass(frozen=True, slots=True)
class Denied:
    """Shopify's prescribed answer to a request that did not verify: send it as it is."""

    status: int
    headers: dict[str, str]
    body: str
    reason: str


@dataclass(frozen=True, slots=True)
class OfflineToken:
    """An expiring offline access token with its refresh token (Shopify rotates it on refresh)."""

    shop: str
    access_token: str
    scopes: str
    expires_at: datetime | None
    refresh_token: str | None
    refresh_token_expires_at: datetime | None


@dataclass(frozen=True, slots=True)
class TokenFailure:
    reason: str  # shopifyapp's or Shopify's error code
    retry_with_new_id_token: bool  # the id token was refused: ask App Bridge for a fresh one


def session_verify(
    *, url: str, headers: Mapping[str, str], method: str = "GET"
) -> Session | Denied:
    """A request from the embedded admin: a document load (`?id_token=`) or a fetch
    (`Authorization: Bearer`). HS256 with the client secret (or the previous one), `aud` the
    client id, `exp`/`nbf` with 10 s leeway, and `iss` and `dest` on the same shop host."""
    result = verify_app_home_req(
        {"method": method, "headers": dict(headers), "url": url, "body": ""},
        app_config(),
        PATCH_ID_TOKEN_PATH,
    )
    response = result.response
    if not result.ok:
        return Denied(
            status=response.status,
            headers=dict(response.headers),
            body=response.body,
            reason=result.log.code,
        )
    claims: dict[str, Any] = result.id_token.claims if result.id_token else {}
    dest_host = urlparse(str(claims.get("dest", ""))).hostname
    iss = urlparse(str(claims.get("iss", "")))
    shop = shop_domain_clean(dest_host)
    if shop is None or iss.hostname != dest_host or iss.scheme != "https":
        # Same answer as any other bad token: App Bridge retries with a fresh one.
        denied = result.invalid_token_response
        return Denied(
            status=denied.status if denied else 401,
            headers=dict(denied.headers) if denied else {},
            body="",
            reason="iss_dest_mismatch",
        )
    return Session(
        shop=shop,
        user_id=str(result.user_id) if result.user_id is not None else None,
        id_token=result.id_token,
        headers=dict(response.headers),
    )


def patch_id_token_page(*, url: str) -> tuple[int, dict[str, str], str]:
    """The bounce page a document load without `id_token` is sent to: App Bridge alone, which
    reloads the app with a fresh token (`shopify-reload`)."""
    result = app_home_patch_id_token(
        {"method": "GET", "headers": {}, "url": url, "body": ""}, app_config()
    )
    return result.response.status, dict(result.response.headers), result.response.body


def _parse_time(value: str | None) -> datetime | None:
    if not value:
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _offline_token(shop: str, token: Any) -> OfflineToken:
    return OfflineToken(
        shop=shop,
        access_token=token.token,
        scopes=token.scope or "",
        expires_at=_parse_time(token.expires),
        refresh_token=token.refresh_token or None,
        refresh_token_expires_at=_parse_time(token.refresh_token_expires),
    )


def offline_token_exchange(session: Session) -> OfflineToken | TokenFailure:
    """Trade a verified session token for an expiring offline access token (`expiring=1`)."""
    with shopify_http_client() as client:
        result = token_exchange(
            "offline", app_config(), session.id_token, None, expiring=True, http_client=client
        )
    if not result.ok or result.access_token is None:
        return TokenFailure(
            reason=result.log.code,
            retry_with_new_id_token=result.log.code == "invalid_subject_token",
        )
    return _offline_token(session.shop, result.access_token)


def offline_token_refresh(token: OfflineToken) -> OfflineToken | TokenFailure:
    """A new access token and the rotated refresh token. We decide when to refresh (ahead of
    expiry, from beat), so the access token's own expiry is not passed to shopifyapp, which would
    otherwise decline while more than a minute is left."""
    if not token.refresh_token:
        return TokenFailure(reason="no_refresh_token", retry_with_new_id_token=True)
    rt_expires = token.refresh_token_expires_at
    with shopify_http_client() as client:
        result = refresh_access_token(
            {
                "shop": token.shop.removesuffix(".myshopify.com"),
                "access_mode": "offline",
                "refresh_token": token.refresh_token,
                "expires": "",
                "refresh_token_expires": rt_expires.strftime("%Y-%m-%dT%H:%M:%SZ")
                if rt_expires
                else "",
            },
            app_config(),
            http_client=client,
        )
    if not result.ok or result.access_token is None:
        return TokenFailure(reason=result.log.code, retry_with_new_id_token=True)
    return _offline_token(token.shop, result.access_token)


def refresh_due(token: OfflineToken, *, now: datetime, ahead: timedelta) -> bool:
    return token.expires_at is not None and token.expires_at - ahead <= now


# The authorization-code grant: only for the legacy (non-embedded) install flow.


def oauth_hmac_valid(query: Mapping[str, str], *, now: float | None = None) -> bool:
    """Shopify's signature on an install or callback hit: HMAC-SHA256 hex over the sorted query
    without `hmac`/`signature`, compared in constant time; and a timestamp no more than 90 s off."""
    given = query.get("hmac", "")
    try:
        timestamp = int(query.get("timestamp", ""))
    except ValueError:
        return False
    current = time.time() if now is None else now
    if abs(current - timestamp) > OAUTH_TIMESTAMP_WINDOW_S:
        return False
    message = urlencode(sorted((k, v) for k, v in query.items() if k not in ("hmac", "signature")))
    for secret in (settings.SHOPIFY_API_SECRET, settings.SHOPIFY_API_SECRET_OLD):
        if not secret:
            continue
        expected = hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()
        if hmac.compare_digest(expected, given):
            return True
    return False


def authorize_url(*, shop: str, state: str) -> str:
    """Where the merchant approves the scopes (offline access: no per-user grant option)."""
    query = urlencode(
        {
            "client_id": settings.SHOPIFY_API_KEY,
            "scope": app_scopes(),
            "redirect_uri": f"{settings.SHOPIFY_APP_URL}/auth/callback",
            "state": state,
        }
    )
    return f"https://{shop}/admin/oauth/authorize?{query}"


def authorization_code_exchange(*, shop: str, code: str) -> OfflineToken | TokenFailure:
    """Trade the callback's code for an expiring offline token (`expiring=1`)."""
    body = {
        "client_id": settings.SHOPIFY_API_KEY,
        "client_secret": settings.SHOPIFY_API_SECRET,
        "code": code,
        "expiring": 1,
    }
    try:
        with shopify_http_client() as client:
            response = client.post(
                f"https://{shop}/admin/oauth/access_token",
                json=body,
                headers={"Accept": "application/json"},
            )
    except httpx.HTTPError as exc:
        return TokenFailure(
            reason=f"network_error: {type(exc).__name__}", retry_with_new_id_token=False
        )
    try:
        data = response.json()
    except ValueError:
        data = {}
    if response.status_code != 200 or not isinstance(data, dict) or "access_token" not in data:
        error = data.get("error", response.status_code) if isinstance(data, dict) else "bad_body"
        return TokenFailure(reason=str(error), retry_with_new_id_token=False)
    now = datetime.now(UTC)
    expires_in = data.get("expires_in")
    rt_expires_in = data.get("refresh_token_expires_in")
    return OfflineToken(
        shop=shop,
        access_token=str(data["access_token"]),
        scopes=str(data.get("scope", "")),
        expires_at=now + timedelta(seconds=int(expires_in)) if expires_in else None,
        refresh_token=data.get("refresh_token") or None,
        refresh_token_expires_at=now + timedelta(seconds=int(rt_expires_in))
        if rt_expires_in
        else None,
    )
