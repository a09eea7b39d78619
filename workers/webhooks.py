"""Shopify webhooks, run after the web view has verified, recorded and acknowledged them.

Each topic is one call into a domain service; every one is safe to run twice (a redelivered task,
or a duplicate that slipped past the dedupe).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from celery import shared_task

from shopapp.events.services import order_purchases_record
from shopapp.privacy.services import Person, customer_export, customer_redact, shop_redact
from shopapp.recs.champions import shop_models_delete
from shopapp.recs.services import product_delete, product_webhook_apply
from shopapp.shopify.ids import resource_id
from shopapp.shops.services import scopes_update, shop_uninstall, webhook_done, webhook_pending
from workers.tasks import PUBLISH_RETRY

log = logging.getLogger(__name__)


def _person(payload: dict[str, Any], orders_key: str) -> Person | None:
    """Who a compliance webhook names: the customer, their email and phone, and their orders
    (`orders_to_redact`, `orders_requested`), which may include guest checkouts."""
    customer = payload.get("customer")
    if not isinstance(customer, dict) or resource_id(customer.get("id")) is None:
        return None
    orders = payload.get(orders_key)
    return Person(
        customer_id=str(customer["id"]),
        email=str(customer.get("email") or ""),
        phone=str(customer.get("phone") or ""),
        order_ids=tuple(str(o) for o in orders if resource_id(o) is not None)
        if isinstance(orders, list)
        else (),
    )


def _data_request(shop: str, payload: dict[str, Any]) -> object:
    person = _person(payload, "orders_requested")
    request = payload.get("data_request")
    request_id = str(request.get("id", "")) if isinstance(request, dict) else ""
    if person is None:
        return None
    return customer_export(shop_domain=shop, person=person, data_request_id=request_id)


def _customer_redact(shop: str, payload: dict[str, Any]) -> object:
    person = _person(payload, "orders_to_redact")
    return customer_redact(shop_domain=shop, person=person) if person else None


def _uninstalled(shop: str, _: dict[str, Any]) -> object:
    """The token goes at once; so do the shop's models (retrained from its history if it comes
    back within the 48 hours before shop/redact deletes that too)."""
    shop_uninstall(domain=shop)
    return {"models_deleted": shop_models_delete(shop=shop)}


def _scopes(shop: str, payload: dict[str, Any]) -> object:
    current = payload.get("current")
    granted = ",".join(str(s) for s in current) if isinstance(current, list) else ""
    scopes_update(domain=shop, scopes=granted)
    return granted


HANDLERS: dict[str, Callable[[str, dict[str, Any]], object]] = {
    "app/uninstalled": _uninstalled,
    "app/scopes_update": _scopes,
    "products/create": lambda shop, p: product_webhook_apply(shop=shop, payload=p),
    "products/update": lambda shop, p: product_webhook_apply(shop=shop, payload=p),
    "products/delete": lambda shop, p: product_delete(shop=shop, payload=p),
    "orders/create": lambda shop, p: order_purchases_record(shop=shop, payload=p),
    "customers/data_request": _data_request,
    "customers/redact": _customer_redact,
    "shop/redact": lambda shop, _: shop_redact(shop_domain=shop),
}


@shared_task(
    name="slipstream.ingest.webhook_process", soft_time_limit=120, time_limit=150, **PUBLISH_RETRY
)
def webhook_process(*, delivery_id: str) -> None:
    """A recorded delivery, once: its topic's service called, the delivery marked done."""
    delivery = webhook_pending(delivery_id=delivery_id)
    if delivery is None:
        return  # handled already
    handler = HANDLERS.get(delivery.topic)
    if handler is None:
        log.warning("webhook topic %s has no handler; dropped", delivery.topic)
    else:
        payload = delivery.payload if isinstance(delivery.payload, dict) else {}
        result = handler(delivery.shop_domain, payload)
        log.info("webhook %s for %s: %s", delivery.topic, delivery.shop_domain, result)
    webhook_done(delivery_id=delivery_id)
