"""Session tokens for the demo's stand-in admin, minted the way Shopify's admin mints them.

In a real store the admin hands the embedded app an HS256 JWT signed with the app's client secret
(https://shopify.dev/docs/apps/build/authentication-authorization/session-tokens): `iss` the shop's
admin, `dest` the shop, `aud` the client id, `sub` the staff member, `exp` a minute after `iat`,
`nbf`, and ids of the token (`jti`) and of the admin session (`sid`). The demo has no admin, so its
stand-in mints them itself, with the demo's own secret (shopapp/demo/secret.py): only the demo's
processes, whose SHOPIFY_API_SECRET it is, accept them.
"""

from __future__ import annotations

import secrets
import time

import jwt
from django.conf import settings

TOKEN_TTL_S = 60  # as Shopify's
DEMO_STAFF_ID = "1"  # the demo's one staff member


class DemoOff(Exception):
    """The demo is off (or has no secret of its own): nothing is signed."""


def demo_session_token(*, shop: str, now: float | None = None) -> str:
    """A session token for `shop`'s embedded app, valid for a minute from `now`."""
    if not settings.DEMO_APP_PROXY or not settings.DEMO_APP_PROXY_SECRET:
        raise DemoOff("the demo is off")
    issued = int(time.time() if now is None else now)
    claims = {
        "iss": f"https://{shop}/admin",
        "dest": f"https://{shop}",
        "aud": settings.SHOPIFY_API_KEY,
        "sub": DEMO_STAFF_ID,
        "exp": issued + TOKEN_TTL_S,
        "nbf": issued,
        "iat": issued,
        "jti": secrets.token_hex(16),
        "sid": secrets.token_hex(16),
    }
    return jwt.encode(claims, settings.DEMO_APP_PROXY_SECRET, algorithm="HS256")
