"""Customers' recommendations in Shopify metaobjects, for the store's own Liquid and Storefront API.

The type is app-owned (`$app:recommendations`, declared in shopify.app.toml). One entry per
customer worth persisting, upserted by handle, so publishing the same list twice leaves one entry.
The handle is `c-` and 32 hex digits of an HMAC of the shopper id under a key derived from the
server's SECRET_KEY: no one without that secret can compute a customer's handle
(docs/decisions/0007-metaobject-handles.md). The theme block finds the entry through the
customer's app-owned metafield `$app.recommendations`, a reference to it that Liquid shows only to
the customer logged in; it is written after the entries, 25 to a call.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.utils.crypto import salted_hmac

from shopapp.events.identity import customer_id_of
from shopapp.shopify.graphql import AdminClient, ShopifyError, json_value, user_errors

log = logging.getLogger(__name__)

TYPE = "$app:recommendations"
MAX_PRODUCTS = 10  # docs/architecture.md §3.6; list.product_reference allows 128
# The customer's pointer to their entry. shopify.app.toml can declare app-owned metafields only in
# the plain `$app` namespace (`[customer.metafields.app.<key>]`), so that is the namespace.
POINTER_NAMESPACE = "$app"
POINTER_KEY = "recommendations"
POINTERS_PER_CALL = 25  # metafieldsSet's limit
# The purpose the handle key is derived for: changing it changes every handle.
HANDLE_SALT = "slipstream.recs.metaobject-handle"

DEFINITION = {
    "type": TYPE,
    "name": "Slipstream recommendations",
    # Liquid can read a metaobject only when the storefront may (NONE hides it from Liquid too).
    "access": {"admin": "MERCHANT_READ", "storefront": "PUBLIC_READ"},
    "fieldDefinitions": [
        {"key": "products", "name": "Products", "type": "list.product_reference", "required": True},
        {"key": "model_version", "name": "Model version", "type": "single_line_text_field"},
        {"key": "updated_at", "name": "Updated at", "type": "date_time"},
    ],
}


def pointer_definition(metaobject_definition_id: str) -> dict[str, Any]:
    """The customer metafield's definition, as shopify.app.toml declares it."""
    return {
        "ownerType": "CUSTOMER",
        "namespace": POINTER_NAMESPACE,
        "key": POINTER_KEY,
        "name": "Slipstream recommendations",
        "type": "metaobject_reference",
        "validations": [{"name": "metaobject_definition_id", "value": metaobject_definition_id}],
        # Storefront access is what lets Liquid read it; Liquid's `customer` is only ever the
        # customer logged in, and the Storefront API shows a customer only to their own token.
        "access": {"admin": "MERCHANT_READ", "storefront": "PUBLIC_READ"},
    }


@dataclass(frozen=True, slots=True)
class Entry:
    user_id: str  # a customer: `c:<id>`
    product_ids: Sequence[str]
    model_version: str
    computed_at: float


def metaobject_handle(user_id: str, *, secret: str | bytes | None = None) -> str:
    """A customer's entry handle: unguessable without the server secret (SECRET_KEY, or the
    `secret` given: an older key of SECRET_KEY_FALLBACKS)."""
    customer_id_of(user_id)  # only customers have entries
    digest = salted_hmac(HANDLE_SALT, user_id, secret=secret, algorithm="sha256").hexdigest()
    return "c-" + digest[:32]


def legacy_handle(user_id: str) -> str:
    """The handle entries had before 0007, which anyone could compute: redaction still looks."""
    plain = customer_id_of(user_id)
    return "c-" + hashlib.sha256(f"customer:{plain}".encode()).hexdigest()[:32]


def entry_handles(user_id: str) -> list[str]:
    """Every handle a customer's entry may be under: the current secret's, an older secret's
    (SECRET_KEY_FALLBACKS, after a rotation), and the legacy one."""
    handles = [metaobject_handle(user_id)]
    handles += [metaobject_handle(user_id, secret=s) for s in settings.SECRET_KEY_FALLBACKS]
    return list(dict.fromkeys([*handles, legacy_handle(user_id)]))


def customer_gid(user_id: str) -> str:
    return f"gid://shopify/Customer/{customer_id_of(user_id)}"


def access_denied(exc: ShopifyError) -> bool:
    """Shopify refused for want of a scope (a shop that has not granted write_customers yet)."""
    return any(
        isinstance(e, dict) and (e.get("extensions") or {}).get("code") == "ACCESS_DENIED"
        for e in exc.errors or []
    )


def definition_ensure(client: AdminClient) -> str:
    """The metaobject definition's id: the one `shopify app deploy` made from shopify.app.toml,
    or one created now when the configuration has not reached this shop (and the same for the
    customer metafield that points to entries)."""
    found = client.execute("metaobject_definition_by_type", {"type": TYPE})
    definition = found.get("metaobjectDefinitionByType")
    if definition:
        definition_id = str(definition["id"])
    else:
        created = client.execute("metaobject_definition_create", {"definition": DEFINITION})
        payload = created["metaobjectDefinitionCreate"]
        errors = user_errors(payload)
        if errors:
            raise ShopifyError(f"metaobject definition refused: {errors}", errors)
        definition_id = str(payload["metaobjectDefinition"]["id"])
    _pointer_definition_ensure(client, definition_id)
    return definition_id


def _pointer_definition_ensure(client: AdminClient, definition_id: str) -> None:
    identifier = {"ownerType": "CUSTOMER", "namespace": POINTER_NAMESPACE, "key": POINTER_KEY}
    try:
        if client.execute("metafield_definition", {"identifier": identifier})[
            "metafieldDefinition"
        ]:
            return
        created = client.execute(
            "metafield_definition_create", {"definition": pointer_definition(definition_id)}
        )
    except ShopifyError as exc:
        if not access_denied(exc):
            raise
        log.warning("%s: write_customers not granted: no customer metafield yet", client.shop)
        return
    errors = user_errors(created["metafieldDefinitionCreate"])
    if errors and any(e.get("code") != "TAKEN" for e in errors):  # TAKEN: another worker's
        raise ShopifyError(f"metafield definition refused: {errors}", errors)


def _entry_fields(entry: Entry) -> list[dict[str, str]]:
    products = [f"gid://shopify/Product/{pid}" for pid in entry.product_ids[:MAX_PRODUCTS]]
    return [
        {"key": "products", "value": json_value(products)},
        {"key": "model_version", "value": entry.model_version[:255]},
        {"key": "updated_at", "value": datetime.fromtimestamp(entry.computed_at, UTC).isoformat()},
    ]


def entries_publish(client: AdminClient, entries: Sequence[Entry]) -> int:
    """Upsert each entry (one mutation each, paced by the client's cost bucket), then point each
    customer's metafield at theirs. Returns how many entries were written; an entry Shopify
    refuses (its userErrors) is logged and skipped."""
    pointers: list[tuple[str, str]] = []
    for entry in entries:
        handle = {"type": TYPE, "handle": metaobject_handle(entry.user_id)}
        result = client.execute(
            "metaobject_upsert", {"handle": handle, "metaobject": {"fields": _entry_fields(entry)}}
        )
        payload = result.get("metaobjectUpsert") or {}
        errors = user_errors(payload)
        if errors or not payload.get("metaobject"):
            log.warning("%s: metaobject for a shopper refused: %s", client.shop, errors)
            continue
        pointers.append((customer_gid(entry.user_id), str(payload["metaobject"]["id"])))
    pointers_set(client, pointers)
    return len(pointers)


def pointers_set(client: AdminClient, pointers: Sequence[tuple[str, str]]) -> int:
    """Each (customer GID, entry GID): the customer's metafield set to the entry, 25 to a call.
    A call is atomic, so owners Shopify refuses (a customer deleted since) are dropped and the
    rest of their batch sent once more. Returns how many were set: none while the shop has not
    granted write_customers (the entries stand; the block then fills from the app proxy)."""
    done = 0
    for start in range(0, len(pointers), POINTERS_PER_CALL):
        batch = list(pointers[start : start + POINTERS_PER_CALL])
        for _attempt in range(2):
            try:
                result = client.execute("metafields_set", {"metafields": _pointer_inputs(batch)})
            except ShopifyError as exc:
                if not access_denied(exc):
                    raise
                log.warning("%s: write_customers not granted: no customer metafields", client.shop)
                return done
            errors = user_errors(result.get("metafieldsSet"))
            if not errors:
                done += len(batch)
                break
            log.warning("%s: customer metafields refused: %s", client.shop, errors)
            refused = {e.get("elementIndex") for e in errors}
            if None in refused:  # not tied to an element: nothing to retry without
                break
            batch = [p for n, p in enumerate(batch) if n not in refused]
            if not batch:
                break
    return done


def _pointer_inputs(batch: Sequence[tuple[str, str]]) -> list[dict[str, str]]:
    return [
        {
            "ownerId": owner,
            "namespace": POINTER_NAMESPACE,
            "key": POINTER_KEY,
            "type": "metaobject_reference",
            "value": entry_id,
        }
        for owner, entry_id in batch
    ]


def entry_delete(client: AdminClient, user_id: str) -> bool:
    """Delete a customer's entry and their metafield (customers/redact): the entry the metafield
    names, and any under one of `entry_handles`. False when there was no entry."""
    owner = customer_gid(user_id)
    pointer, ids = _pointer_read(client, owner)
    for handle in entry_handles(user_id):
        found = client.execute("metaobject_by_handle", {"handle": {"type": TYPE, "handle": handle}})
        if found.get("metaobjectByHandle"):
            ids.add(str(found["metaobjectByHandle"]["id"]))
    for metaobject_id in sorted(ids):
        result = client.execute("metaobject_delete", {"id": metaobject_id})
        errors = user_errors(result.get("metaobjectDelete"))
        if errors:
            raise ShopifyError(f"metaobject delete refused: {errors}", errors)
    if pointer:
        identifier = {"ownerId": owner, "namespace": POINTER_NAMESPACE, "key": POINTER_KEY}
        result = client.execute("metafields_delete", {"metafields": [identifier]})
        errors = user_errors(result.get("metafieldsDelete"))
        if errors:
            raise ShopifyError(f"customer metafield delete refused: {errors}", errors)
    return bool(ids)


def _pointer_read(client: AdminClient, owner: str) -> tuple[bool, set[str]]:
    """(whether the customer has the metafield, the entry it still names if any)."""
    try:
        found = client.execute(
            "customer_recommendations",
            {"id": owner, "namespace": POINTER_NAMESPACE, "key": POINTER_KEY},
        )
    except ShopifyError as exc:
        if not access_denied(exc):
            raise
        return False, set()  # without the scope no metafield was ever written
    metafield = (found.get("customer") or {}).get("metafield")
    if not metafield:
        return False, set()
    reference = metafield.get("reference") or {}
    return True, {str(reference["id"])} if reference.get("id") else set()


def entries_delete_all(client: AdminClient) -> str:
    """Every entry of our type (asynchronous at Shopify: returns the job's id)."""
    result = client.execute("metaobject_bulk_delete", {"where": {"type": TYPE}})
    payload = result["metaobjectBulkDelete"]
    errors = user_errors(payload)
    if errors:
        raise ShopifyError(f"metaobject bulk delete refused: {errors}", errors)
    return str(payload["job"]["id"])


def entries_stale_delete(client: AdminClient, *, updated_before: datetime) -> int:
    """Delete the entries not updated since `updated_before`, a page (up to 250) at a time.
    Returns how many were asked to be deleted (Shopify deletes them as a job)."""
    query = f"updated_at:<'{updated_before.astimezone(UTC).strftime('%Y-%m-%dT%H:%M:%SZ')}'"
    stale: list[str] = []
    after: str | None = None
    while True:
        page = client.execute("metaobjects_stale", {"type": TYPE, "query": query, "after": after})[
            "metaobjects"
        ]
        stale += [str(node["id"]) for node in page["nodes"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    for start in range(0, len(stale), 250):
        result = client.execute(
            "metaobject_bulk_delete", {"where": {"ids": stale[start : start + 250]}}
        )
        errors = user_errors(result.get("metaobjectBulkDelete"))
        if errors:
            raise ShopifyError(f"metaobject cleanup refused: {errors}", errors)
    return len(stale)
