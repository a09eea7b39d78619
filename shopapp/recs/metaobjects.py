"""Shoppers' recommendations in Shopify metaobjects, for the store's own Liquid and Storefront API.

The type is app-owned (`$app:recommendations`, declared in shopify.app.toml). One entry per
shopper worth persisting, upserted by handle, so publishing the same list twice leaves one entry.
The handle is derived from the shopper without showing their id: `c-` and the first 32 hex digits
of sha256("customer:<id>"), which a theme computes with
`{{ 'customer:' | append: customer.id | sha256 | slice: 0, 32 | prepend: 'c-' }}`.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from shopapp.shopify.graphql import AdminClient, ShopifyError, json_value, user_errors

log = logging.getLogger(__name__)

TYPE = "$app:recommendations"
MAX_PRODUCTS = 10  # DESIGN.md §3; list.product_reference allows 128

DEFINITION = {
    "type": TYPE,
    "name": "Slipstream recommendations",
    "access": {"admin": "MERCHANT_READ", "storefront": "PUBLIC_READ"},
    "fieldDefinitions": [
        {"key": "products", "name": "Products", "type": "list.product_reference", "required": True},
        {"key": "model_version", "name": "Model version", "type": "single_line_text_field"},
        {"key": "updated_at", "name": "Updated at", "type": "date_time"},
    ],
}


@dataclass(frozen=True, slots=True)
class Entry:
    user_id: str
    product_ids: Sequence[str]
    model_version: str
    computed_at: float


def metaobject_handle(user_id: str) -> str:
    return "c-" + hashlib.sha256(f"customer:{user_id}".encode()).hexdigest()[:32]


def is_customer(user_id: str) -> bool:
    """Customer ids are Shopify's numeric ids; visitor ids (the tracker's UUIDs) are not."""
    return user_id.isdigit()


def definition_ensure(client: AdminClient) -> str:
    """The definition's id: the one `shopify app deploy` made from shopify.app.toml, or one
    created now when the configuration has not reached this shop."""
    found = client.execute("metaobject_definition_by_type", {"type": TYPE})
    definition = found.get("metaobjectDefinitionByType")
    if definition:
        return str(definition["id"])
    created = client.execute("metaobject_definition_create", {"definition": DEFINITION})
    payload = created["metaobjectDefinitionCreate"]
    errors = user_errors(payload)
    if errors:
        raise ShopifyError(f"metaobject definition refused: {errors}", errors)
    return str(payload["metaobjectDefinition"]["id"])


def entries_publish(client: AdminClient, entries: Sequence[Entry]) -> int:
    """Upsert each entry (one mutation each, paced by the client's cost bucket). Returns how many
    were written; an entry Shopify refuses (its userErrors) is logged and skipped."""
    written = 0
    for entry in entries:
        result = client.execute(
            "metaobject_upsert",
            {
                "handle": {"type": TYPE, "handle": metaobject_handle(entry.user_id)},
                "metaobject": {
                    "fields": [
                        {
                            "key": "products",
                            "value": json_value(
                                [
                                    f"gid://shopify/Product/{pid}"
                                    for pid in entry.product_ids[:MAX_PRODUCTS]
                                ]
                            ),
                        },
                        {"key": "model_version", "value": entry.model_version[:255]},
                        {
                            "key": "updated_at",
                            "value": datetime.fromtimestamp(entry.computed_at, UTC).isoformat(),
                        },
                    ]
                },
            },
        )
        errors = user_errors(result.get("metaobjectUpsert"))
        if errors:
            log.warning("%s: metaobject for a shopper refused: %s", client.shop, errors)
            continue
        written += 1
    return written


def entry_delete(client: AdminClient, user_id: str) -> bool:
    """Delete one shopper's entry (customers/redact); False when there was none."""
    found = client.execute(
        "metaobject_by_handle", {"handle": {"type": TYPE, "handle": metaobject_handle(user_id)}}
    )
    metaobject = found.get("metaobjectByHandle")
    if not metaobject:
        return False
    result = client.execute("metaobject_delete", {"id": metaobject["id"]})
    errors = user_errors(result.get("metaobjectDelete"))
    if errors:
        raise ShopifyError(f"metaobject delete refused: {errors}", errors)
    return True


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
