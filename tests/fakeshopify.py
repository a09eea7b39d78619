"""A stand-in Shopify at its HTTP boundary: a real local HTTP server our code talks to over the
network (SHOPIFY_ORIGIN_OVERRIDE sends `https://{shop}/...` here; the Host header names the shop).

`/admin/oauth/access_token` implements the three grants Slipstream uses and checks every field
Shopify checks: the client id and secret, the grant type, for token exchange the subject token (an
HS256 session token for this app and this shop, in date) and its token types, for refresh the
refresh token (rotated: each one works once), and for the code grant the code (once, for its shop).
Expiring offline tokens (`expiring=1`) live an hour; refresh tokens 90 days, as Shopify's do.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt

ACCESS_TTL_S = 3600
REFRESH_TTL_S = 90 * 24 * 3600
TOKEN_EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"
ID_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:id_token"
OFFLINE_TYPE = "urn:shopify:params:oauth:token-type:offline-access-token"


@dataclass
class Issued:
    shop: str
    expires_at: float | None


@dataclass
class FakeShopify:
    client_id: str
    client_secret: str
    requests: list[dict[str, Any]] = field(default_factory=list)  # every token request's body
    access_tokens: dict[str, Issued] = field(default_factory=dict)
    refresh_tokens: dict[str, Issued] = field(default_factory=dict)  # live (unused) ones only
    codes: dict[str, str] = field(default_factory=dict)  # code -> shop, single use
    lock: threading.Lock = field(default_factory=threading.Lock)
    origin: str = ""

    # What a test arranges.

    def code_issue(self, shop: str) -> str:
        code = secrets.token_hex(16)
        with self.lock:
            self.codes[code] = shop
        return code

    def refresh_tokens_revoke(self) -> None:
        with self.lock:
            self.refresh_tokens.clear()

    def grants(self, grant_type: str) -> list[dict[str, Any]]:
        return [r for r in self.requests if r.get("grant_type") == grant_type]

    # The endpoint.

    def token_request(self, shop: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        with self.lock:
            self.requests.append(dict(body))
        if (
            body.get("client_id") != self.client_id
            or body.get("client_secret") != self.client_secret
        ):
            return 400, {"error": "invalid_client"}
        grant = body.get("grant_type")
        if grant == TOKEN_EXCHANGE:
            return self._token_exchange(shop, body)
        if grant == "refresh_token":
            return self._refresh(shop, body)
        if "code" in body and grant in (None, "authorization_code"):
            return self._code(shop, body)
        return 400, {"error": "unsupported_grant_type"}

    def _token_exchange(self, shop: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        if body.get("subject_token_type") != ID_TOKEN_TYPE:
            return 400, {"error": "invalid_request", "error_description": "subject_token_type"}
        if body.get("requested_token_type") != OFFLINE_TYPE:
            return 400, {"error": "invalid_request", "error_description": "requested_token_type"}
        try:
            claims = jwt.decode(
                str(body.get("subject_token", "")),
                self.client_secret,
                algorithms=["HS256"],
                audience=self.client_id,
                leeway=10,
            )
        except jwt.PyJWTError as exc:
            return 400, {"error": "invalid_subject_token", "error_description": str(exc)}
        if claims.get("dest") != f"https://{shop}":
            return 400, {"error": "invalid_subject_token", "error_description": "dest"}
        return 200, self._issue(shop, expiring=str(body.get("expiring")) == "1")

    def _refresh(self, shop: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        with self.lock:
            issued = self.refresh_tokens.pop(str(body.get("refresh_token", "")), None)
        if issued is None or issued.shop != shop:
            return 400, {"error": "invalid_grant", "error_description": "refresh token"}
        if issued.expires_at is not None and issued.expires_at < time.time():
            return 400, {"error": "invalid_grant", "error_description": "refresh token expired"}
        return 200, self._issue(shop, expiring=True)

    def _code(self, shop: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        with self.lock:
            code_shop = self.codes.pop(str(body.get("code", "")), None)
        if code_shop != shop:
            return 400, {"error": "invalid_request", "error_description": "code"}
        return 200, self._issue(shop, expiring=str(body.get("expiring")) == "1")

    def _issue(self, shop: str, *, expiring: bool) -> dict[str, Any]:
        access = f"shpat_{secrets.token_hex(16)}"
        now = time.time()
        reply: dict[str, Any] = {
            "access_token": access,
            "scope": "read_products,read_orders,write_app_proxy,write_pixels,read_customer_events",
        }
        with self.lock:
            self.access_tokens[access] = Issued(shop, now + ACCESS_TTL_S if expiring else None)
            if expiring:
                refresh = f"shprt_{secrets.token_hex(16)}"
                self.refresh_tokens[refresh] = Issued(shop, now + REFRESH_TTL_S)
                reply |= {
                    "expires_in": ACCESS_TTL_S,
                    "refresh_token": refresh,
                    "refresh_token_expires_in": REFRESH_TTL_S,
                }
        return reply


def _handler(fake: FakeShopify) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # quiet
            pass

        def _reply(self, status: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self) -> None:
            shop = (self.headers.get("Host") or "").split(":")[0]
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length)
            if self.path != "/admin/oauth/access_token":
                self._reply(404, {"errors": "Not Found"})
                return
            if not shop.endswith(".myshopify.com"):
                self._reply(404, {"errors": "Not Found"})
                return
            try:
                body = json.loads(raw or b"{}")
            except ValueError:
                self._reply(400, {"error": "invalid_request"})
                return
            status, reply = fake.token_request(shop, body)
            self._reply(status, reply)

    return Handler


class FakeShopifyServer:
    """Runs a FakeShopify on a free loopback port for the length of a `with`."""

    def __init__(self, fake: FakeShopify) -> None:
        self.fake = fake
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(fake))
        fake.origin = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> FakeShopify:
        self._thread.start()
        return self.fake

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()


def session_token(
    shop: str,
    *,
    secret: str,
    aud: str,
    expires_in: float = 60,
    not_before_in: float = 0,
    iss_shop: str | None = None,
    alg: str = "HS256",
) -> str:
    """An App Bridge session token as the admin mints it (the claims shopify.dev documents)."""
    now = time.time()
    claims = {
        "iss": f"https://{iss_shop or shop}/admin",
        "dest": f"https://{shop}",
        "aud": aud,
        "sub": "42",
        "exp": int(now + expires_in),
        "nbf": int(now + not_before_in),
        "iat": int(now),
        "jti": secrets.token_hex(8),
        "sid": secrets.token_hex(8),
    }
    if alg == "none":
        return jwt.encode(claims, None, algorithm="none")  # type: ignore[arg-type]
    return jwt.encode(claims, secret, algorithm=alg)
