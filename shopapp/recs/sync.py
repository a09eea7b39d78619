"""What the recommendation side exchanges with Shopify: customers' lists out to metaobjects, the
catalogue in through a bulk query. Each is one call per task, safe to repeat."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.db import transaction

from shopapp.events.identity import is_customer
from shopapp.recs.catalog import bulk_catalog_parse
from shopapp.recs.exclusions import catalogue_changed
from shopapp.recs.keys import DEFINITION_CHECKED_TTL_S, definition_checked_key
from shopapp.recs.metaobjects import (
    Entry,
    definition_ensure,
    entries_publish,
    entries_stale_delete,
    entry_delete,
)
from shopapp.recs.models import Product
from shopapp.recs.services import products_upsert
from shopapp.recs.store import recs_read
from shopapp.redis import get_redis
from shopapp.shopify.graphql import ShopifyError, user_errors
from shopapp.shopify.http import shopify_http_client
from shopapp.shopify.schema import DOCUMENTS
from shopapp.shops.selectors import shop_config_get
from shopapp.shops.services import shop_admin_client

log = logging.getLogger(__name__)


def recommendations_publish(*, shop: str, user_ids: Sequence[str]) -> int:
    """Write the current lists of the given shoppers who are worth persisting (customers, `c:<id>`,
    unless the merchant turned it off) to their metaobjects, and point each customer's metafield
    at theirs. Returns how many entries were written."""
    config = shop_config_get(domain=shop)
    if config is None or not config.active or not config.publish_customers:
        return 0
    r = get_redis()
    entries = []
    for user_id in dict.fromkeys(user_ids):
        if not is_customer(user_id):
            continue
        stored = recs_read(r=r, shop=shop, user_id=user_id)
        if stored is not None and stored.items:
            entries.append(
                Entry(
                    user_id=user_id,
                    product_ids=stored.items,
                    model_version=stored.model_version,
                    computed_at=stored.computed_at,
                )
            )
    if not entries:
        return 0
    with shop_admin_client(domain=shop) as client:
        if not r.exists(definition_checked_key(shop)):
            definition_ensure(client)
            r.set(definition_checked_key(shop), 1, ex=DEFINITION_CHECKED_TTL_S)
        return entries_publish(client, entries)


def recommendation_unpublish(*, shop: str, user_ids: Sequence[str]) -> int:
    """Delete customers' metaobject entries and the metafields pointing to them (customers/redact;
    other shoppers have none). Returns how many entries existed."""
    with shop_admin_client(domain=shop) as client:
        return sum(entry_delete(client, user_id) for user_id in user_ids if is_customer(user_id))


@dataclass(frozen=True, slots=True)
class CatalogSync:
    operation_id: str
    done: bool
    products: int = 0
    unpublished: int = 0
    unreadable_lines: int = 0


def catalog_sync_start(*, shop: str) -> str:
    """Ask Shopify to export the catalogue (a bulk operation); returns the operation's id."""
    query = (DOCUMENTS / "catalog_products.graphql").read_text()
    with shop_admin_client(domain=shop) as client:
        payload = client.execute("bulk_operation_run_query", {"query": query})[
            "bulkOperationRunQuery"
        ]
    errors = user_errors(payload)
    if errors:
        raise ShopifyError(f"bulk query refused: {errors}", errors)
    return str(payload["bulkOperation"]["id"])


def catalog_sync_collect(*, shop: str, operation_id: str) -> CatalogSync:
    """If the export is done, read its JSONL into the catalogue. A product missing from a
    complete export was deleted or unpublished while a webhook was missed: it is unpublished."""
    with shop_admin_client(domain=shop) as client:
        op = client.execute("bulk_operation", {"id": operation_id}).get("node") or {}
    status = op.get("status")
    if status in ("CREATED", "RUNNING", "CANCELING"):
        return CatalogSync(operation_id=operation_id, done=False)
    if status != "COMPLETED":
        raise ShopifyError(f"catalogue export {operation_id} ended {status}: {op.get('errorCode')}")
    lines: list[str] = []
    if op.get("url"):
        with shopify_http_client() as http, http.stream("GET", op["url"]) as response:
            response.raise_for_status()
            lines = list(response.iter_lines())
    products, bad = bulk_catalog_parse(lines)
    with transaction.atomic():
        if products:
            products_upsert(shop=shop, products=products)
        seen = [str(p["product_id"]) for p in products]
        gone = (
            Product.objects.filter(shop__domain=shop, published=True)
            .exclude(product_id__in=seen)
            .update(published=False)
        )
        catalogue_changed(shop=shop)
    return CatalogSync(
        operation_id=operation_id,
        done=True,
        products=len(products),
        unpublished=gone,
        unreadable_lines=bad,
    )


METAOBJECT_STALE_DAYS = 30


def metaobjects_cleanup(*, shop: str, now: datetime | None = None) -> int:
    """Beat: entries of customers who have not been back for 30 days are deleted (a returning
    customer gets a fresh one with their next recommendations)."""
    cutoff = (now or datetime.now(UTC)) - timedelta(days=METAOBJECT_STALE_DAYS)
    with shop_admin_client(domain=shop) as client:
        return entries_stale_delete(client, updated_before=cutoff)
