"""The Admin GraphQL client: one `gql` client per shop, living within Shopify's cost budget.

Shopify meters each app on each shop with a leaky bucket of points (`extensions.cost`). We keep our
view of that bucket in Redis, shared by every worker calling the shop, wait before sending when
the bucket cannot afford the query, and never send a query costing more than 1,000 points.
Answers that say "not now" are waited out and retried: THROTTLED (HTTP 200 with the error code),
429 (Retry-After), and 5xx or a dropped connection (exponential backoff). Anything else is an error
of ours and is raised at once.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, cast

import httpx
import redis
from gql import Client, GraphQLRequest
from gql.transport.exceptions import TransportConnectionFailed, TransportQueryError
from gql.transport.httpx import HTTPXTransport
from graphql import ExecutionResult

from shopapp.shopify.api import ADMIN_API_VERSION
from shopapp.shopify.cost import MAX_QUERY_COST, requested_cost
from shopapp.shopify.http import TIMEOUT, shopify_transport
from shopapp.shopify.keys import GQL_BUCKET_TTL_S, bucket_key
from shopapp.shopify.schema import document

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
BACKOFF_BASE_S = 0.5
BACKOFF_MAX_S = 30.0
# Before Shopify has told us the shop's bucket (its plan decides it), assume the smallest: the
# Standard plan's 1,000 points restoring at 100 per second.
DEFAULT_MAXIMUM = 1000.0
DEFAULT_RESTORE = 100.0


class ShopifyError(Exception):
    """Shopify refused the request for a reason a retry will not cure (a bug of ours)."""

    def __init__(self, message: str, errors: Any = None) -> None:
        super().__init__(message)
        self.errors = errors


class ShopifyUnavailable(Exception):
    """Shopify kept answering 5xx (or not at all) through every retry: try again later."""


class QueryTooExpensive(ShopifyError):
    pass


class _RetryAfter(Exception):
    def __init__(self, seconds: float, reason: str) -> None:
        super().__init__(reason)
        self.seconds = seconds


class _ShopifyTransport(HTTPXTransport):
    """gql's httpx transport, reading the status that gql's own handling would lose."""

    def _prepare_result(self, response: httpx.Response) -> ExecutionResult:
        if response.status_code == 429:
            retry_after = response.headers.get("Retry-After", "1")
            try:
                seconds = float(retry_after)
            except ValueError:
                seconds = 1.0
            raise _RetryAfter(seconds, "HTTP 429")
        if response.status_code >= 500:
            raise TransportConnectionFailed(f"HTTP {response.status_code}")
        if response.status_code in (401, 403):
            raise ShopifyError(f"HTTP {response.status_code}: access token refused")
        return super()._prepare_result(response)


@dataclass(frozen=True, slots=True)
class Bucket:
    available: float
    maximum: float
    restore: float


# KEYS: the bucket hash. ARGV: now. Returns the bucket as it stands now (restored since last seen).
_BUCKET_READ = """
local b = redis.call('HMGET', KEYS[1], 'available', 'maximum', 'restore', 'at')
if not b[1] then return {} end
local maximum, restore = tonumber(b[2]), tonumber(b[3])
local available = math.min(maximum, tonumber(b[1]) + (tonumber(ARGV[1]) - tonumber(b[4])) * restore)
return {tostring(available), tostring(maximum), tostring(restore)}
"""
# KEYS: the bucket hash. ARGV: now, cost, default maximum and restore rate, the hash's TTL. Takes
# `cost` points if the bucket has them; else returns how many seconds until it will.
_BUCKET_TAKE = """
local b = redis.call('HMGET', KEYS[1], 'available', 'maximum', 'restore', 'at')
local now, cost = tonumber(ARGV[1]), tonumber(ARGV[2])
local maximum = tonumber(b[2] or ARGV[3])
local restore = tonumber(b[3] or ARGV[4])
local available = maximum
if b[1] then available = math.min(maximum, tonumber(b[1]) + (now - tonumber(b[4])) * restore) end
if available < cost then return tostring((cost - available) / restore) end
redis.call('HSET', KEYS[1], 'available', available - cost, 'maximum', maximum,
           'restore', restore, 'at', now)
redis.call('EXPIRE', KEYS[1], ARGV[5])
return '0'
"""


class AdminClient:
    """Admin GraphQL for one shop, with its access token. Use in a `with` block."""

    def __init__(
        self,
        *,
        shop: str,
        access_token: str,
        r: redis.Redis,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.shop = shop
        self._r = r
        self._sleep = sleep
        self._clock = clock
        self._transport = _ShopifyTransport(
            url=f"https://{shop}/admin/api/{ADMIN_API_VERSION}/graphql.json",
            headers={"X-Shopify-Access-Token": access_token},
            timeout=TIMEOUT,
            transport=shopify_transport(),
        )
        self._client = Client(transport=self._transport, fetch_schema_from_transport=False)
        self._session: Any = None

    def __enter__(self) -> AdminClient:
        self._session = self._client.connect_sync()
        return self

    def __exit__(self, *exc: object) -> None:
        self._client.close_sync()
        self._session = None

    def bucket(self) -> Bucket | None:
        """Our view of the shop's bucket now, once Shopify has reported it."""
        raw = cast(list[str], self._r.eval(_BUCKET_READ, 1, bucket_key(self.shop), self._clock()))
        return Bucket(*(float(x) for x in raw)) if raw else None

    def execute(self, name: str, variables: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Run a document of shopapp/shopify/documents/ and return its `data`."""
        doc = document(name)
        values = dict(variables or {})
        cost = requested_cost(doc, values)
        if cost > MAX_QUERY_COST:
            raise QueryTooExpensive(f"{name} would cost {cost} points (Shopify's limit: 1,000)")
        for attempt in range(MAX_ATTEMPTS):
            self._take(cost)
            try:
                result = self._session.execute(
                    GraphQLRequest(doc, variable_values=values), get_execution_result=True
                )
            except _RetryAfter as exc:
                log.info("%s: %s, waiting %.1f s", self.shop, exc, exc.seconds)
                self._sleep(exc.seconds)
                continue
            except (TransportConnectionFailed, httpx.TransportError) as exc:
                wait = min(BACKOFF_MAX_S, BACKOFF_BASE_S * 2**attempt)
                log.info("%s: %s, retrying in %.1f s", self.shop, exc, wait)
                self._sleep(wait)
                continue
            except TransportQueryError as exc:
                self._observe(exc.extensions)
                if _throttled(exc.errors):
                    self._sleep(self._refill_wait(cost))
                    continue
                raise ShopifyError(f"{name}: {exc}", exc.errors) from None
            self._observe(result.extensions)
            return cast(dict[str, Any], result.data)
        raise ShopifyUnavailable(f"{name}: no answer from {self.shop} after {MAX_ATTEMPTS} tries")

    def _take(self, cost: float) -> None:
        while True:
            wait = float(
                cast(
                    str,
                    self._r.eval(
                        _BUCKET_TAKE,
                        1,
                        bucket_key(self.shop),
                        self._clock(),
                        cost,
                        DEFAULT_MAXIMUM,
                        DEFAULT_RESTORE,
                        GQL_BUCKET_TTL_S,
                    ),
                )
            )
            if wait <= 0:
                return
            self._sleep(wait)

    def _observe(self, extensions: Mapping[str, Any] | None) -> None:
        """Take Shopify's word for the bucket: it is the authority, ours is an estimate."""
        status = ((extensions or {}).get("cost") or {}).get("throttleStatus")
        if not status:
            return
        self._r.hset(
            bucket_key(self.shop),
            mapping={
                "available": float(status["currentlyAvailable"]),
                "maximum": float(status["maximumAvailable"]),
                "restore": float(status["restoreRate"]),
                "at": self._clock(),
            },
        )
        self._r.expire(bucket_key(self.shop), GQL_BUCKET_TTL_S)

    def _refill_wait(self, cost: float) -> float:
        bucket = self.bucket()
        if bucket is None:
            return cost / DEFAULT_RESTORE
        return max(0.05, (cost - bucket.available) / bucket.restore)


def _throttled(errors: Any) -> bool:
    for error in errors or []:
        if (
            isinstance(error, Mapping)
            and (error.get("extensions") or {}).get("code") == "THROTTLED"
        ):
            return True
    return False


def user_errors(payload: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    """A mutation payload's userErrors (Shopify's "your input is wrong", HTTP 200)."""
    return list((payload or {}).get("userErrors") or [])


def json_value(value: Any) -> str:
    """A metaobject field's value: always a string; lists and objects as JSON."""
    return value if isinstance(value, str) else json.dumps(value)
