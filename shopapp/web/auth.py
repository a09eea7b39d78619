"""Install and sign-in: the embedded app's home (Shopify-managed install + token exchange), the
session-token guard for the embedded UI's fetches, and the legacy authorization-code grant.

Every verification is in shopapp.shopify.auth; these views only turn results into responses.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from functools import partial, wraps
from typing import Concatenate, ParamSpec, cast

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.views.decorators.http import require_GET

from shopapp.redis import get_redis
from shopapp.shopify.auth import (
    Denied,
    Session,
    TokenFailure,
    authorization_code_exchange,
    authorize_url,
    oauth_hmac_valid,
    offline_token_exchange,
    patch_id_token_page,
    session_verify,
)
from shopapp.shopify.domains import shop_domain_clean
from shopapp.shopify.keys import OAUTH_STATE_TTL_S, oauth_state_key
from shopapp.shops.selectors import shop_needs_token
from shopapp.shops.services import shop_install
from workers.tasks import shop_setup

log = logging.getLogger(__name__)

STATE_COOKIE = "slipstream_oauth_state"


class ShopifyRequest(HttpRequest):
    """A request whose session token checked out: what `embedded_page` and `session_required`
    hand their view. Never constructed; the guards set the attribute on Django's request."""

    shopify_session: Session


P = ParamSpec("P")
ShopifyView = Callable[Concatenate[ShopifyRequest, P], HttpResponse]
GuardedView = Callable[Concatenate[HttpRequest, P], HttpResponse]


def _denied(denied: Denied) -> HttpResponse:
    response = HttpResponse(denied.body, status=denied.status, content_type="text/plain")
    for name, value in denied.headers.items():
        response[name] = value
    return response


def _forbidden(reason: str) -> HttpResponse:
    return HttpResponse(reason, status=403, content_type="text/plain")


def _ensure_token(session: Session) -> TokenFailure | None:
    """Shopify-managed install: the first visit (or the first after an uninstall, or after a
    refused refresh) trades the session token for an expiring offline token."""
    if not shop_needs_token(domain=session.shop):
        return None
    token = offline_token_exchange(session)
    if isinstance(token, TokenFailure):
        return token
    shop_install(domain=session.shop, token=token)
    _setup(session.shop)
    return None


def _setup(shop: str) -> None:
    """Queue the post-install setup (web pixel, catalogue). An unreachable queue must not fail
    the install: the daily catalogue job runs the same setup for every shop."""
    try:
        # Queued once the install is committed, so the worker always finds the shop's token.
        transaction.on_commit(partial(shop_setup.delay, shop=shop))
    except Exception:
        log.exception("post-install setup of %s not queued; the daily job will do it", shop)


def _signed_in(request: HttpRequest) -> ShopifyRequest | Denied | TokenFailure:
    """Verify the request's session token (query `id_token` or `Authorization` header), install
    on the first visit, and hand back the request with the session on it (`shopify_session`)."""
    session = session_verify(
        url=request.build_absolute_uri(), headers=request.headers, method=request.method or "GET"
    )
    if isinstance(session, Denied):
        return session
    failure = _ensure_token(session)
    if failure is not None:
        return failure
    signed_in = cast(ShopifyRequest, request)
    signed_in.shopify_session = session
    return signed_in


def embedded_page(view: ShopifyView[P]) -> GuardedView[P]:
    """For the app's pages in the admin: a document load carrying `id_token` (else the bounce
    page fetches one). The first visit installs (token exchange). The response carries
    `Content-Security-Policy: frame-ancestors https://{shop} https://admin.shopify.com`.
    The verified shop is `request.shopify_session`."""

    @wraps(view)
    def guarded(request: HttpRequest, *args: P.args, **kwargs: P.kwargs) -> HttpResponse:
        signed_in = _signed_in(request)
        if isinstance(signed_in, Denied):
            return _denied(signed_in)
        if isinstance(signed_in, TokenFailure):
            if signed_in.retry_with_new_id_token:
                return HttpResponseRedirect(_patch_url(request))
            return HttpResponse(
                "Slipstream could not get access to this store from Shopify. Please try again.",
                status=502,
                content_type="text/plain",
            )
        response = view(signed_in, *args, **kwargs)
        # CSP frame-ancestors, App Bridge preloads
        for name, value in signed_in.shopify_session.headers.items():
            response[name] = value
        return response

    return guarded


def _patch_url(request: HttpRequest) -> str:
    query = request.GET.copy()
    query.pop("id_token", None)
    reload_path = request.path + (f"?{query.urlencode()}" if query else "")
    query["shopify-reload"] = reload_path
    return f"/auth/patch-id-token?{query.urlencode()}"


@require_GET
def patch_id_token(request: HttpRequest) -> HttpResponse:
    """The bounce page: App Bridge alone, which reloads `shopify-reload` with a fresh id_token."""
    if shop_domain_clean(request.GET.get("shop")) is None:
        return HttpResponse("invalid shop", status=400, content_type="text/plain")
    status, headers, body = patch_id_token_page(url=request.build_absolute_uri())
    response = HttpResponse(body, status=status)
    for name, value in headers.items():
        response[name] = value
    return response


def session_required(view: ShopifyView[P]) -> GuardedView[P]:
    """For the embedded UI's fetches: `Authorization: Bearer <session token>`. An invalid token
    gets 401 with `X-Shopify-Retry-Invalid-Session-Request: 1`, and App Bridge retries with a
    fresh one. The verified shop is `request.shopify_session`."""

    @wraps(view)
    def guarded(request: HttpRequest, *args: P.args, **kwargs: P.kwargs) -> HttpResponse:
        if not request.headers.get("Authorization"):
            return JsonResponse(
                {"error": "session token required"},
                status=401,
                headers={"X-Shopify-Retry-Invalid-Session-Request": "1"},
            )
        signed_in = _signed_in(request)
        if isinstance(signed_in, Denied):
            return _denied(signed_in)
        if isinstance(signed_in, TokenFailure):
            status = 401 if signed_in.retry_with_new_id_token else 502
            headers = {"X-Shopify-Retry-Invalid-Session-Request": "1"} if status == 401 else {}
            return JsonResponse({"error": signed_in.reason}, status=status, headers=headers)
        return view(signed_in, *args, **kwargs)

    return guarded


@require_GET
@session_required
def session_check(request: ShopifyRequest) -> JsonResponse:
    """What the embedded UI asks first: which shop it is signed in to."""
    session = request.shopify_session
    return JsonResponse({"shop": session.shop, "user": session.user_id})


# The authorization-code grant (legacy, non-embedded install).


def _signed_shop(query: dict[str, str]) -> str | HttpResponse:
    """The shop of an install or callback hit, once its domain and Shopify's HMAC check out."""
    shop = shop_domain_clean(query.get("shop"))
    if shop is None:
        return HttpResponse("invalid shop domain", status=400, content_type="text/plain")
    if not oauth_hmac_valid(query):
        return HttpResponse("invalid signature", status=401, content_type="text/plain")
    return shop


@require_GET
def oauth_install(request: HttpRequest) -> HttpResponse:
    """Shopify's install hit (`shop`, `timestamp`, `hmac`): verified, then the merchant is sent to
    approve the scopes with a state nonce bound to this browser by a cookie."""
    query = request.GET.dict()
    shop = _signed_shop(query)
    if isinstance(shop, HttpResponse):
        return shop
    state = secrets.token_urlsafe(24)
    get_redis().set(oauth_state_key(state), shop, ex=OAUTH_STATE_TTL_S)
    response = HttpResponseRedirect(authorize_url(shop=shop, state=state))
    response.set_cookie(
        STATE_COOKIE,
        state,
        max_age=OAUTH_STATE_TTL_S,  # the cookie lives as long as the state it carries
        secure=request.is_secure() or not settings.DEBUG,
        httponly=True,
        samesite="Lax",
    )
    return response


@require_GET
def oauth_callback(request: HttpRequest) -> HttpResponse:
    """Shopify's redirect back (`code`, `shop`, `state`, `timestamp`, `hmac`): signature, state
    (this browser's, for this shop, used once) and timestamp checked before the code is spent."""
    query = request.GET.dict()
    shop = _signed_shop(query)
    if isinstance(shop, HttpResponse):
        return shop
    state = query.get("state", "")
    cookie = request.COOKIES.get(STATE_COOKIE, "")
    if not state or not secrets.compare_digest(state, cookie):
        return _forbidden("state does not match this browser")
    if get_redis().getdel(oauth_state_key(state)) != shop:
        return _forbidden("state expired or already used")
    code = query.get("code", "")
    if not code:
        return HttpResponse("missing code", status=400, content_type="text/plain")
    token = authorization_code_exchange(shop=shop, code=code)
    if isinstance(token, TokenFailure):
        return HttpResponse(
            f"Shopify refused the install ({token.reason}).", status=502, content_type="text/plain"
        )
    shop_install(domain=shop, token=token)
    _setup(shop)
    response = HttpResponseRedirect(f"https://{shop}/admin/apps/{settings.SHOPIFY_API_KEY}")
    response.delete_cookie(STATE_COOKIE)
    return response
