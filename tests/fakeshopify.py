"""A stand-in Shopify at its HTTP boundary: a real local HTTP server our code talks to over the
network (SHOPIFY_ORIGIN_OVERRIDE sends `https://{shop}/...` here; the Host header names the shop).

`/admin/oauth/access_token` implements the three grants Slipstream uses and checks every field
Shopify checks: the client id and secret, the grant type, for token exchange the subject token (an
HS256 session token for this app and this shop, in date) and its token types, for refresh the
refresh token (rotated: each one works once), and for the code grant the code (once, for its shop).
Expiring offline tokens (`expiring=1`) live an hour; refresh tokens 90 days, as Shopify's do.

`/admin/api/<version>/graphql.json`, for the version pinned in shopapp/shopify/api.py, executes each
document against Shopify's published Admin schema (an invalid one is refused as Shopify refuses
it: HTTP 200 with `errors`), answers only to a live access token of that shop, meters a per-shop
leaky bucket and reports it in `extensions.cost` (THROTTLED when it is empty), and keeps
metaobjects, metaobject definitions, customers' metafields, metafield definitions, web pixels and
a product catalogue in memory. A token carries the scopes it
was granted (shopify.app.toml's, unless a test withdraws one); what touches customers without
`write_customers` (or `read_customers` to read) is refused with ACCESS_DENIED, as Shopify refuses
it. `$app` namespaces resolve to `app--<app id>`, as Shopify resolves them. Bulk queries complete
on the second poll and serve JSONL. Faults (`throttle`, `429`, `500`, `drop`) can be queued for
the next requests.
"""

from __future__ import annotations

import json
import re
import secrets
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
from graphql import OperationDefinitionNode, graphql_sync, parse, validate
from graphql.error import GraphQLError

from shopapp.shopify.api import ADMIN_API_VERSION
from shopapp.shopify.appconfig import app_scopes
from shopapp.shopify.cost import requested_cost
from shopapp.shopify.schema import admin_schema

# The pinned version's endpoint only, as Shopify serves each version at its own path.
GRAPHQL_PATH = f"/admin/api/{ADMIN_API_VERSION}/graphql.json"
ACCESS_TTL_S = 3600
REFRESH_TTL_S = 90 * 24 * 3600
TOKEN_EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"
ID_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:id_token"
OFFLINE_TYPE = "urn:shopify:params:oauth:token-type:offline-access-token"


@dataclass
class Issued:
    shop: str
    expires_at: float | None
    scopes: str = ""


@dataclass
class FakeShopify:
    client_id: str
    client_secret: str
    requests: list[dict[str, Any]] = field(default_factory=list)  # every token request's body
    access_tokens: dict[str, Issued] = field(default_factory=dict)
    refresh_tokens: dict[str, Issued] = field(default_factory=dict)  # live (unused) ones only
    codes: dict[str, str] = field(default_factory=dict)  # code -> shop, single use
    lock: threading.RLock = field(default_factory=threading.RLock)
    origin: str = ""
    # Admin GraphQL state, per shop.
    metaobjects: dict[tuple[str, str, str], dict[str, Any]] = field(default_factory=dict)
    definitions: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    # (shop, owner type, namespace, key) and (shop, owner GID, namespace, key); namespaces resolved.
    metafield_definitions: dict[tuple[str, str, str, str], dict[str, Any]] = field(
        default_factory=dict
    )
    metafields: dict[tuple[str, str, str, str], dict[str, Any]] = field(default_factory=dict)
    deleted_customers: set[str] = field(default_factory=set)  # GIDs Shopify no longer has
    app_id: int = 4242  # what `$app` resolves to
    scopes: str = field(default_factory=app_scopes)  # what an install grants
    web_pixels: dict[str, dict[str, Any]] = field(default_factory=dict)
    catalog: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    bulk: dict[str, dict[str, Any]] = field(default_factory=dict)
    buckets: dict[str, list[float]] = field(default_factory=dict)  # [available, at]
    bucket_maximum: float = 1000.0
    bucket_restore: float = 100.0
    faults: list[str] = field(default_factory=list)  # consumed one per GraphQL request
    graphql_log: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)
    effects: list[tuple[str, str, str]] = field(default_factory=list)  # (shop, mutation, key)
    next_id: int = 1000
    throttled: int = 0  # THROTTLED answers given because the bucket was short (not faults)

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
            "scope": self.scopes,
        }
        with self.lock:
            self.access_tokens[access] = Issued(
                shop, now + ACCESS_TTL_S if expiring else None, self.scopes
            )
            if expiring:
                refresh = f"shprt_{secrets.token_hex(16)}"
                self.refresh_tokens[refresh] = Issued(shop, now + REFRESH_TTL_S)
                reply |= {
                    "expires_in": ACCESS_TTL_S,
                    "refresh_token": refresh,
                    "refresh_token_expires_in": REFRESH_TTL_S,
                }
        return reply

    # Admin GraphQL.

    def _gid(self, kind: str) -> str:
        with self.lock:
            self.next_id += 1
            return f"gid://shopify/{kind}/{self.next_id}"

    def token_valid(self, shop: str, token: str) -> bool:
        issued = self.access_tokens.get(token)
        return (
            issued is not None
            and issued.shop == shop
            and (issued.expires_at is None or issued.expires_at > time.time())
        )

    def _bucket_take(self, shop: str, cost: float) -> tuple[bool, float]:
        """(afforded, available after) for a request of `cost` points."""
        with self.lock:
            available, at = self.buckets.get(shop, [self.bucket_maximum, time.time()])
            now = time.time()
            available = min(self.bucket_maximum, available + (now - at) * self.bucket_restore)
            afforded = available >= cost
            if afforded:
                available -= cost
            self.buckets[shop] = [available, now]
            return afforded, available

    def _cost(self, requested: int, actual: int | None, available: float) -> dict[str, Any]:
        return {
            "cost": {
                "requestedQueryCost": requested,
                "actualQueryCost": actual,
                "throttleStatus": {
                    "maximumAvailable": self.bucket_maximum,
                    "currentlyAvailable": int(available),
                    "restoreRate": self.bucket_restore,
                },
            }
        }

    def graphql_request(
        self, shop: str, token: str, body: dict[str, Any]
    ) -> tuple[int, dict[str, str], dict[str, Any] | str]:
        if not self.token_valid(shop, token):
            return 401, {}, {"errors": "[API] Invalid API key or access token"}
        with self.lock:
            fault = self.faults.pop(0) if self.faults else None
        if fault == "429":
            return 429, {"Retry-After": "0.2"}, {"errors": "Exceeded 2 calls per second"}
        if fault == "500":
            return 500, {}, "Internal Server Error"
        if fault == "drop":
            raise ConnectionResetError("dropped")
        query, variables = str(body.get("query", "")), body.get("variables") or {}
        try:
            doc = parse(query)
        except GraphQLError as exc:
            return 200, {}, {"errors": [{"message": exc.message}]}
        errors = validate(admin_schema(), doc)
        if errors:  # Shopify refuses an invalid document before running any of it
            return 200, {}, {"errors": [{"message": e.message} for e in errors]}
        requested = requested_cost(doc, variables)
        if requested > 1000:
            return (
                200,
                {},
                {
                    "errors": [
                        {
                            "message": "Query cost exceeds 1000",
                            "extensions": {"code": "MAX_COST_EXCEEDED"},
                        }
                    ]
                },
            )
        afforded, available = self._bucket_take(shop, requested)
        if fault == "throttle" or not afforded:
            if fault != "throttle":
                self.throttled += 1
            if fault == "throttle":
                with self.lock:
                    self.buckets[shop] = [0.0, time.time()]
                available = 0.0
            return (
                200,
                {},
                {
                    "errors": [{"message": "Throttled", "extensions": {"code": "THROTTLED"}}],
                    "extensions": self._cost(requested, None, available),
                },
            )
        result = graphql_sync(
            admin_schema(),
            query,
            root_value=_Root(self, shop, self.access_tokens[token].scopes),
            variable_values=variables,
            operation_name=body.get("operationName"),
        )
        name = next(
            (
                d.name.value
                for d in doc.definitions
                if isinstance(d, OperationDefinitionNode) and d.name
            ),
            "",
        )
        with self.lock:
            self.graphql_log.append((shop, name, dict(variables)))
        reply: dict[str, Any] = {
            "data": result.data,
            "extensions": self._cost(requested, requested, available),
        }
        if result.errors:
            reply["errors"] = [
                {"message": e.message, **({"extensions": e.extensions} if e.extensions else {})}
                for e in result.errors
            ]
        return 200, {}, reply

    def bulk_result(self, op_number: str) -> str | None:
        op = self.bulk.get(f"gid://shopify/BulkOperation/{op_number}")
        return None if op is None else op["jsonl"]

    # What tests read.

    def entries(self, shop: str) -> dict[str, dict[str, Any]]:
        """The shop's metaobjects by handle."""
        return {h: m for (s, _t, h), m in self.metaobjects.items() if s == shop}

    def namespace(self, namespace: str | None) -> str:
        """A namespace as Shopify stores it: `$app` and `$app:x` are the app's reserved ones."""
        namespace = namespace or "$app"
        if namespace == "$app":
            return f"app--{self.app_id}"
        if namespace.startswith("$app:"):
            return f"app--{self.app_id}--{namespace[5:]}"
        return namespace

    def customer_metafields(self, shop: str) -> dict[str, dict[str, dict[str, str]]]:
        """The shop's metafields by owner, then `namespace.key`: {"type", "value"} each."""
        found: dict[str, dict[str, dict[str, str]]] = {}
        for (s, owner, namespace, key), m in sorted(self.metafields.items()):
            if s == shop:
                found.setdefault(owner, {})[f"{namespace}.{key}"] = {
                    "type": m["type"],
                    "value": m["value"],
                }
        return found

    def metaobject_put(self, shop: str, type_: str, handle: str, fields: dict[str, str]) -> str:
        """An entry as if written before (a test's arrangement); returns its id."""
        entry = {
            "id": self._gid("Metaobject"),
            "handle": handle,
            "type": type_,
            "fields": dict(fields),
            "updatedAt": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        }
        with self.lock:
            self.metaobjects[(shop, type_, handle)] = entry
        return str(entry["id"])

    def scope_withdraw(self, shop: str, scope: str) -> None:
        """The shop's tokens lose a scope (an install from before the app asked for it)."""
        with self.lock:
            for issued in self.access_tokens.values():
                if issued.shop == shop:
                    issued.scopes = ",".join(s for s in issued.scopes.split(",") if s != scope)


class _Root:
    """Resolvers for the root fields our documents use; graphql-core calls them with their
    arguments after checking them, and the variables, against the schema."""

    def __init__(self, fake: FakeShopify, shop: str, scopes: str = "") -> None:
        self.fake, self.shop, self.scopes = fake, shop, set(scopes.split(","))

    def _require(self, field_name: str, *scopes: str) -> None:
        """Shopify's answer to a field the token's scopes do not reach: a top-level error."""
        if not self.scopes & set(scopes):
            raise GraphQLError(
                f"Access denied for {field_name} field. Required access: `{scopes[0]}` access "
                "scope.",
                extensions={"code": "ACCESS_DENIED", "requiredAccess": scopes[0]},
            )

    def metaobjectDefinitionByType(self, info: Any, type: str) -> dict[str, Any] | None:
        return self.fake.definitions.get((self.shop, type))

    def metaobjectDefinitionCreate(self, info: Any, definition: dict[str, Any]) -> dict[str, Any]:
        key = (self.shop, definition["type"])
        with self.fake.lock:
            if key in self.fake.definitions:
                return {
                    "metaobjectDefinition": None,
                    "userErrors": [
                        {
                            "field": ["definition", "type"],
                            "message": "Type has already been taken",
                            "code": "TAKEN",
                        }
                    ],
                }
            created = {"id": self.fake._gid("MetaobjectDefinition"), **definition}
            self.fake.definitions[key] = created
            self.fake.effects.append((self.shop, "metaobjectDefinitionCreate", definition["type"]))
        return {"metaobjectDefinition": created, "userErrors": []}

    def metaobjectUpsert(
        self, info: Any, handle: dict[str, Any], metaobject: dict[str, Any]
    ) -> dict[str, Any]:
        type_, key = handle["type"], (self.shop, handle["type"], handle["handle"])
        if (self.shop, type_) not in self.fake.definitions:
            return {
                "metaobject": None,
                "userErrors": [
                    {
                        "field": ["handle", "type"],
                        "message": "No metaobject definition exists for type",
                        "code": "UNDEFINED_OBJECT_TYPE",
                    }
                ],
            }
        fields = {f["key"]: f["value"] for f in metaobject.get("fields") or []}
        with self.fake.lock:
            existing = self.fake.metaobjects.get(key)
            entry = {
                "id": existing["id"] if existing else self.fake._gid("Metaobject"),
                "handle": handle["handle"],
                "type": type_,
                "fields": {**(existing or {}).get("fields", {}), **fields},
                "updatedAt": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            }
            self.fake.metaobjects[key] = entry
            self.fake.effects.append((self.shop, "metaobjectUpsert", handle["handle"]))
        return {"metaobject": entry, "userErrors": []}

    def metaobjectByHandle(self, info: Any, handle: dict[str, Any]) -> dict[str, Any] | None:
        return self.fake.metaobjects.get((self.shop, handle["type"], handle["handle"]))

    def metaobjects(
        self,
        info: Any,
        type: str,
        first: int | None = None,
        query: str = "",
        after: str | None = None,
        **_: Any,
    ) -> dict[str, Any]:
        """Pages of entries of a type; understands the one filter we send, updated_at:<'T'."""
        match = re.fullmatch(r"updated_at:<'([^']+)'", query or "")
        entries = sorted(
            (e for (s, t, _h), e in self.fake.metaobjects.items() if s == self.shop and t == type),
            key=lambda e: e["id"],
        )
        if match:
            entries = [e for e in entries if e["updatedAt"] < match.group(1)]
        start = int(after or 0)
        page = entries[start : start + (first or 50)]
        end = start + len(page)
        return {
            "nodes": page,
            "pageInfo": {"hasNextPage": end < len(entries), "endCursor": str(end)},
        }

    def metaobjectDelete(self, info: Any, id: str) -> dict[str, Any]:
        with self.fake.lock:
            for key, entry in list(self.fake.metaobjects.items()):
                if key[0] == self.shop and entry["id"] == id:
                    del self.fake.metaobjects[key]
                    self.fake.effects.append((self.shop, "metaobjectDelete", entry["handle"]))
                    return {"deletedId": id, "userErrors": []}
        return {
            "deletedId": None,
            "userErrors": [
                {"field": ["id"], "message": "Record not found", "code": "RECORD_NOT_FOUND"}
            ],
        }

    def metaobjectBulkDelete(self, info: Any, where: dict[str, Any]) -> dict[str, Any]:
        with self.fake.lock:
            for key, entry in list(self.fake.metaobjects.items()):
                if key[0] == self.shop and (
                    key[1] == where.get("type") or entry["id"] in (where.get("ids") or [])
                ):
                    del self.fake.metaobjects[key]
            self.fake.effects.append((self.shop, "metaobjectBulkDelete", str(where)))
        return {"job": {"id": self.fake._gid("Job"), "done": True}, "userErrors": []}

    # Customers' metafields (the only owner type our documents write).

    def _customer_owner(self, owner: str) -> bool:
        return (
            owner.startswith("gid://shopify/Customer/") and owner not in self.fake.deleted_customers
        )

    def metafieldDefinition(
        self, info: Any, identifier: dict[str, Any] | None = None, id: str | None = None
    ) -> dict[str, Any] | None:
        if identifier is None:
            return next(
                (d for d in self.fake.metafield_definitions.values() if d["id"] == id), None
            )
        namespace = self.fake.namespace(identifier.get("namespace"))
        key = (self.shop, identifier["ownerType"], namespace, identifier["key"])
        return self.fake.metafield_definitions.get(key)

    def metafieldDefinitionCreate(self, info: Any, definition: dict[str, Any]) -> dict[str, Any]:
        if definition["ownerType"] == "CUSTOMER":
            self._require("metafieldDefinitionCreate", "write_customers")
        namespace = self.fake.namespace(definition.get("namespace"))
        key = (self.shop, definition["ownerType"], namespace, definition["key"])
        validations = {v["name"]: v["value"] for v in definition.get("validations") or []}
        error = None
        if key in self.fake.metafield_definitions:
            error = (["definition", "key"], "Key is in use for this namespace.", "TAKEN")
        elif definition["type"] == "metaobject_reference" and not any(
            s == self.shop and d["id"] == validations.get("metaobject_definition_id")
            for (s, _t), d in self.fake.definitions.items()
        ):
            error = (["definition", "validations"], "Metaobject definition not found", "INVALID")
        if error:
            field_path, message, code = error
            return {
                "createdDefinition": None,
                "userErrors": [{"field": field_path, "message": message, "code": code}],
            }
        created = {
            "id": self.fake._gid("MetafieldDefinition"),
            **definition,
            "namespace": namespace,
            "validations": validations,
        }
        with self.fake.lock:
            self.fake.metafield_definitions[key] = created
            self.fake.effects.append((self.shop, "metafieldDefinitionCreate", definition["key"]))
        return {"createdDefinition": created, "userErrors": []}

    def _metafield_error(self, n: int, item: dict[str, Any]) -> dict[str, Any] | None:
        """What Shopify refuses in one MetafieldsSetInput, as a userError for element `n`."""
        definition = self._definition_of(item)
        type_ = item.get("type") or (definition or {}).get("type")
        problem: tuple[str, str, str] | None = None
        if not self._customer_owner(item["ownerId"]):
            problem = ("ownerId", "Owner does not exist.", "INVALID")
        elif not re.fullmatch(r"[A-Za-z0-9_-]{2,64}", item["key"]):
            problem = ("key", "Key is invalid.", "INVALID")
        elif not type_:
            problem = ("type", "Type can't be blank.", "BLANK")
        elif definition and type_ != definition["type"]:
            problem = ("type", "Type must match the definition's type.", "INVALID_TYPE")
        elif type_ == "metaobject_reference" and not self._metaobject_ok(item["value"], definition):
            problem = (
                "value",
                "Value must be a metaobject of the definition's type.",
                "INVALID_VALUE",
            )
        if problem is None:
            return None
        where, message, code = problem
        return {
            "field": ["metafields", str(n), where],
            "message": message,
            "code": code,
            "elementIndex": n,
        }

    def _definition_of(self, item: dict[str, Any]) -> dict[str, Any] | None:
        namespace = self.fake.namespace(item.get("namespace"))
        return self.fake.metafield_definitions.get((self.shop, "CUSTOMER", namespace, item["key"]))

    def _metaobject_ok(self, gid: str, definition: dict[str, Any] | None) -> bool:
        entry = next(
            (
                (t, e)
                for (s, t, _h), e in self.fake.metaobjects.items()
                if s == self.shop and e["id"] == gid
            ),
            None,
        )
        if entry is None:
            return False
        wanted = (definition or {}).get("validations", {}).get("metaobject_definition_id")
        return (
            wanted is None
            or self.fake.definitions.get((self.shop, entry[0]), {}).get("id") == wanted
        )

    def metafieldsSet(self, info: Any, metafields: list[dict[str, Any]]) -> dict[str, Any]:
        self._require("metafieldsSet", "write_customers")
        if not 1 <= len(metafields) <= 25:
            return {
                "metafields": None,
                "userErrors": [
                    {
                        "field": ["metafields"],
                        "message": "Exceeded the maximum metafields input limit of 25.",
                        "code": "LESS_THAN_OR_EQUAL_TO",
                        "elementIndex": None,
                    }
                ],
            }
        errors = [e for n, m in enumerate(metafields) if (e := self._metafield_error(n, m))]
        if errors:  # atomic: nothing of the call is kept
            return {"metafields": None, "userErrors": errors}
        written = []
        with self.fake.lock:
            for item in metafields:
                namespace = self.fake.namespace(item.get("namespace"))
                key = (self.shop, item["ownerId"], namespace, item["key"])
                existing = self.fake.metafields.get(key)
                metafield = {
                    "id": existing["id"] if existing else self.fake._gid("Metafield"),
                    "namespace": namespace,
                    "key": item["key"],
                    "type": item.get("type") or (self._definition_of(item) or {})["type"],
                    "value": item["value"],
                }
                self.fake.metafields[key] = metafield
                self.fake.effects.append((self.shop, "metafieldsSet", item["ownerId"]))
                written.append(metafield)
        return {"metafields": written, "userErrors": []}

    def metafieldsDelete(self, info: Any, metafields: list[dict[str, Any]]) -> dict[str, Any]:
        self._require("metafieldsDelete", "write_customers")
        deleted: list[dict[str, Any] | None] = []
        with self.fake.lock:
            for item in metafields:
                namespace = self.fake.namespace(item["namespace"])
                key = (self.shop, item["ownerId"], namespace, item["key"])
                if self.fake.metafields.pop(key, None) is None:
                    deleted.append(None)
                    continue
                self.fake.effects.append((self.shop, "metafieldsDelete", item["ownerId"]))
                deleted.append(
                    {"ownerId": item["ownerId"], "namespace": namespace, "key": item["key"]}
                )
        return {"deletedMetafields": deleted, "userErrors": []}

    def customer(self, info: Any, id: str) -> dict[str, Any] | None:
        self._require("customer", "read_customers", "write_customers")
        if not self._customer_owner(id):
            return None

        def metafield(info: Any, key: str, namespace: str | None = None) -> dict[str, Any] | None:
            found = self.fake.metafields.get((self.shop, id, self.fake.namespace(namespace), key))
            if found is None:
                return None
            entry = next(
                (
                    e
                    for (s, _t, _h), e in self.fake.metaobjects.items()
                    if s == self.shop and e["id"] == found["value"]
                ),
                None,
            )
            reference = {"__typename": "Metaobject", **entry} if entry else None
            return {**found, "reference": reference}

        return {"id": id, "metafield": metafield}

    def bulkOperationRunQuery(self, info: Any, query: str, **_: Any) -> dict[str, Any]:
        errors = validate(admin_schema(), parse(query))
        if errors:
            return {
                "bulkOperation": None,
                "userErrors": [
                    {"field": ["query"], "message": errors[0].message, "code": "INVALID"}
                ],
            }
        op_id = self.fake._gid("BulkOperation")
        rows: list[str] = []
        for product in self.fake.catalog.get(self.shop, []):
            collections = product.get("collections", [])
            rows.append(json.dumps({k: v for k, v in product.items() if k != "collections"}))
            rows += [json.dumps({**c, "__parentId": product["id"]}) for c in collections]
        number = op_id.rsplit("/", 1)[1]
        with self.fake.lock:
            self.fake.bulk[op_id] = {
                "__typename": "BulkOperation",
                "id": op_id,
                "status": "CREATED",
                "polls": 0,
                "errorCode": None,
                "objectCount": str(len(rows)),
                "partialDataUrl": None,
                "url": None,
                "jsonl": "\n".join(rows) + ("\n" if rows else ""),
                "final_url": f"https://storage.googleapis.com/shopify-bulk/{number}.jsonl",
            }
        return {"bulkOperation": {"id": op_id, "status": "CREATED"}, "userErrors": []}

    def node(self, info: Any, id: str) -> dict[str, Any] | None:
        with self.fake.lock:
            op = self.fake.bulk.get(id)
            if op is None:
                return None
            op["polls"] += 1  # RUNNING on the first poll, COMPLETED from the second
            op["status"] = "RUNNING" if op["polls"] < 2 else "COMPLETED"
            op["url"] = op["final_url"] if op["status"] == "COMPLETED" and op["jsonl"] else None
            return dict(op)

    def webPixel(self, info: Any, id: str | None = None) -> dict[str, Any] | None:
        return self.fake.web_pixels.get(self.shop)

    def webPixelCreate(self, info: Any, webPixel: dict[str, Any]) -> dict[str, Any]:
        with self.fake.lock:
            if self.shop in self.fake.web_pixels:
                return {
                    "webPixel": None,
                    "userErrors": [
                        {"field": None, "message": "Web pixel is taken.", "code": "TAKEN"}
                    ],
                }
            pixel = {"id": self.fake._gid("WebPixel"), "settings": webPixel["settings"]}
            self.fake.web_pixels[self.shop] = pixel
            self.fake.effects.append((self.shop, "webPixelCreate", pixel["id"]))
        return {"webPixel": pixel, "userErrors": []}

    def webPixelUpdate(self, info: Any, id: str, webPixel: dict[str, Any]) -> dict[str, Any]:
        with self.fake.lock:
            pixel = self.fake.web_pixels.get(self.shop)
            if pixel is None or pixel["id"] != id:
                return {
                    "webPixel": None,
                    "userErrors": [{"field": ["id"], "message": "Not found", "code": "NOT_FOUND"}],
                }
            pixel["settings"] = webPixel["settings"]
            self.fake.effects.append((self.shop, "webPixelUpdate", id))
        return {"webPixel": pixel, "userErrors": []}


def _handler(fake: FakeShopify) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # quiet
            pass

        def _reply(
            self, status: int, body: dict[str, Any] | str, headers: dict[str, str] | None = None
        ) -> None:
            data = (json.dumps(body) if isinstance(body, dict) else body).encode()
            self.send_response(status)
            self.send_header(
                "Content-Type", "application/json" if isinstance(body, dict) else "text/plain"
            )
            self.send_header("Content-Length", str(len(data)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            if self.path.startswith("/shopify-bulk/") and self.path.endswith(".jsonl"):
                jsonl = fake.bulk_result(self.path.rsplit("/", 1)[1].removesuffix(".jsonl"))
                if jsonl is not None:
                    self._reply(200, jsonl)
                    return
            self._reply(404, {"errors": "Not Found"})

        def do_POST(self) -> None:
            shop = (self.headers.get("Host") or "").split(":")[0]
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length)
            if self.path == GRAPHQL_PATH:
                try:
                    body = json.loads(raw or b"{}")
                except ValueError:
                    self._reply(400, {"errors": "Bad Request"})
                    return
                token = self.headers.get("X-Shopify-Access-Token") or ""
                try:
                    status, headers, reply = fake.graphql_request(shop, token, body)
                except ConnectionResetError:
                    self.close_connection = True
                    return
                self._reply(status, reply, headers)
                return
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
