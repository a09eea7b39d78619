"""Every source of interactions reduces to one record here (docs/architecture.md §3.1).

The collector's tracker events (`tp2_normalise`, here), the offline importer's CSV/JSON Lines rows
(`offline_normalise`, events/offline.py) and the orders webhook all end in `interaction_build`, so
training data from a legacy export and from the live tracker are one thing.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from shopapp.events.identity import (
    IdentityError,
    is_user_id,
    is_visitor,
    uuid_canonical,
    visitor_user,
)
from shopapp.events.schemas import schema_errors
from shopapp.events.tp2 import (
    EventError,
    SelfDescribing,
    event_fields,
    json_field,
    self_describing,
)
from shopapp.shopify.ids import gid_id, id_or_gid, resource_id

INTERACTIONS = ("view", "cart", "purchase", "rec_impression", "rec_click")
# The interactions that say what a shopper wants; widget measurements stay out of the window.
INTENT = frozenset({"view", "cart", "purchase"})
ECOMMERCE_ACTION = "com.snowplowanalytics.snowplow.ecommerce/snowplow_ecommerce_action"
PRODUCT_ENTITY = "com.snowplowanalytics.snowplow.ecommerce/product"
TRANSACTION_ENTITY = "com.snowplowanalytics.snowplow.ecommerce/transaction"
REC_IMPRESSION = "app.slipstream/recommendation_impression"
REC_CLICK = "app.slipstream/recommendation_click"
ACTION_INTERACTIONS = {"product_view": "view", "add_to_cart": "cart", "transaction": "purchase"}
# Product and event ids as their sources write them: printable, bounded, no separator our logs
# use. (Shopper ids have their own forms, a UUID among them: shopapp/events/identity.py.)
PRODUCT_OR_EVENT_ID_RE = re.compile(r"[A-Za-z0-9_.:@-]{1,128}")
# Device clocks can be anything; an event more than a day off the collector's clock is suspect.
MAX_CLOCK_SKEW_S = 24 * 3600
# A stated true time may be in the past (a replay) but not ahead of our clock by more than this.
FUTURE_TOLERANCE_S = 60


@dataclass(frozen=True, slots=True)
class InteractionRecord:
    shop: str
    user_id: str  # kinded: `c:<id>`, `v:<uuid>`, `i:<id>` (shopapp/events/identity.py)
    item_id: str
    interaction: str
    ts: float  # unix seconds, UTC
    event_id: str
    # The browser's visitor id (`v:<uuid>`) when the shopper is a customer Shopify signed for
    # (user_id is then `c:<id>`): the link that ties their anonymous browsing to them (identity
    # stitching). Only a signed request can make one.
    visitor_id: str | None = None
    # Shopify's order id of a purchase, when the event names it (the web pixel's checkout): how
    # a redaction of a guest's order finds the visitor who placed it.
    order_id: str | None = None


def interaction_build(
    *,
    shop: str,
    user_id: str,
    item_id: str,
    interaction: str,
    ts: float,
    event_id: str,
    visitor_id: str | None = None,
    order_id: str | None = None,
) -> InteractionRecord:
    """The single gate every interaction passes: ids well-formed, kind known, time sane."""
    item_id = _product_id(item_id)
    if not is_user_id(user_id):
        raise EventError("invalid shopper id")
    if interaction not in INTERACTIONS:
        raise EventError(f"unknown interaction {interaction!r}")
    if not PRODUCT_OR_EVENT_ID_RE.fullmatch(event_id):
        raise EventError("invalid event id")
    if not 0 < ts < 4102444800:  # 2100-01-01
        raise EventError("timestamp out of range")
    if visitor_id is not None and (is_visitor(user_id) or not is_visitor(visitor_id)):
        visitor_id = None
    return InteractionRecord(
        shop=shop,
        user_id=user_id,
        item_id=item_id,
        interaction=interaction,
        ts=ts,
        event_id=event_id,
        visitor_id=visitor_id,
        order_id=order_id if interaction == "purchase" and _is_order_id(order_id) else None,
    )


def _is_order_id(order_id: str | None) -> bool:
    return resource_id(order_id) is not None


def _product_id(raw: Any) -> str:
    text = str(raw).strip()
    gid = gid_id(text, "Product")
    if gid is not None:
        return gid
    if not PRODUCT_OR_EVENT_ID_RE.fullmatch(text):
        raise EventError("invalid product id")
    return text


def _event_time(fields: Mapping[str, str], received_at: float) -> float:
    """Device time corrected by the collector's clock, as Snowplow's derived_tstamp does; or the
    true timestamp `ttm` when a server-side sender states it (replays and imports of the past).
    """
    try:
        true = int(fields["ttm"]) / 1000 if "ttm" in fields else None
        created = int(fields["dtm"]) / 1000 if "dtm" in fields else None
        sent = int(fields["stm"]) / 1000 if "stm" in fields else None
    except (ValueError, OverflowError):  # not digits; more digits than a float holds
        raise EventError("ttm/dtm/stm must be integers (ms)") from None
    if true is not None:
        if true > received_at + FUTURE_TOLERANCE_S:
            raise EventError("ttm is in the future")
        return true
    if created is None:
        return received_at
    ts = created + (received_at - sent) if sent is not None else created
    if abs(ts - received_at) > MAX_CLOCK_SKEW_S:
        return received_at
    return ts


def tp2_normalise(
    *, shop: str, raw: Any, received_at: float, customer: str | None = None
) -> list[InteractionRecord]:
    """The interactions in one tracker event: none for a page view, one per product otherwise.

    `customer` is the shopper id (`c:<id>`) Shopify signed for the request that carried the
    event, if any: the event is then that customer's and its `duid` is linked to them. The
    event's own `uid` is never read: nothing a browser sends can name a customer. Otherwise the
    shopper is the visitor the event's `duid` (a UUID) names.

    Raises EventError with the reason when the event is invalid.
    """
    fields = event_fields(raw)
    for required in ("e", "p", "tv"):
        if required not in fields:
            raise EventError(f"missing required parameter {required!r}")
    if fields.get("aid") != shop:
        raise EventError("aid does not name this shop")
    if fields["e"] != "ue":
        return []  # page views, pings and structured events carry no product interaction
    event_id = _event_uuid(fields.get("eid"))
    user_id, visitor_id = _shopper(fields.get("duid"), customer)
    ts = _event_time(fields, received_at)
    envelope = self_describing(json_field(fields, "ue_pr", "ue_px"), what="ue_pr")
    event = self_describing(envelope.data, what="unstruct_event data")
    entities = _entities(fields)
    pairs = _interactions_of(event, entities)
    order_id = _order_id(entities)
    return [
        interaction_build(
            shop=shop,
            user_id=user_id,
            item_id=item,
            interaction=kind,
            ts=ts,
            event_id=event_id if n == 0 else f"{event_id}:{n}",
            visitor_id=visitor_id,
            order_id=order_id,
        )
        for n, (kind, item) in enumerate(pairs)
    ]


def _order_id(entities: list[SelfDescribing]) -> str | None:
    for entity in entities:
        if entity.schema == TRANSACTION_ENTITY and isinstance(entity.data, dict):
            found = id_or_gid(entity.data.get("transaction_id", ""), "Order")
            if found is not None:
                return found
    return None


def _shopper(duid: str | None, customer: str | None) -> tuple[str, str | None]:
    """(the shopper, the visitor to link to them): the signed customer if any, else the visitor."""
    try:
        visitor = visitor_user(duid) if duid else None
    except IdentityError as exc:
        if customer is None:
            raise EventError(str(exc)) from None
        visitor = None  # the customer is vouched for; only the link is lost
    if customer is not None:
        return customer, visitor
    if visitor is None:
        raise EventError("no shopper id (duid)")
    return visitor, None


def _event_uuid(eid: str | None) -> str:
    canonical = uuid_canonical(eid or "")
    if canonical is None:
        raise EventError("eid is not a UUID")
    return canonical


def _entities(fields: Mapping[str, str]) -> list[SelfDescribing]:
    contexts = json_field(fields, "co", "cx")
    if contexts is None:
        return []
    items = self_describing(contexts, what="co").data
    if not isinstance(items, list):
        raise EventError("contexts data is not an array")
    return [self_describing(item, what="context entity") for item in items]


def _interactions_of(
    event: SelfDescribing, entities: list[SelfDescribing]
) -> list[tuple[str, str]]:
    data = event.data
    if not isinstance(data, dict):
        raise EventError("event data is not an object")
    if event.schema == ECOMMERCE_ACTION:
        kind = ACTION_INTERACTIONS.get(str(data.get("type")))
        if kind is None:
            return []  # list views, checkout steps, refunds: not preference signals (yet)
        products = [
            e.data.get("id")
            for e in entities
            if e.schema == PRODUCT_ENTITY and isinstance(e.data, dict)
        ]
        if not products:
            raise EventError(f"{data.get('type')} without a product entity")
        return [(kind, str(p)) for p in products]
    errors = schema_errors(schema=event.schema, version=event.version, data=data)
    if errors is None:
        raise EventError(f"unsupported event schema {event.schema}/{event.version}")
    if errors:
        raise EventError(f"{event.schema} invalid: {'; '.join(errors[:3])}")
    if event.schema == REC_CLICK:
        return [("rec_click", data["item_id"])]
    if event.schema == REC_IMPRESSION:
        return [("rec_impression", str(item)) for item in data["items"]]
    raise EventError(f"unsupported event schema {event.schema}")
