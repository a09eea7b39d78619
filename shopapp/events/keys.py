"""The events domain's Redis keys: the event log, the collector's limits, windows, trending
counters and rejections. Each family is declared once (shopapp/rediskeys.py) with its lifetime;
the modules that write them build their keys here."""

from __future__ import annotations

from shopapp.rediskeys import Scope, declare

EVENT_LOG = declare(
    "ss:events",
    owner="shopapp.events.stream",
    scope=Scope.GLOBAL,
    what="stream: accepted batches waiting for the consumer group `ingest`",
    expires=False,
    lifetime="until consumed: the consumer deletes each entry once its ingest task is queued; no "
    "length cap, on purpose; shop/redact deletes the shop's unconsumed entries (an entry in "
    "flight at a customers/redact may land after it: docs/decisions/0004)",
)
STREAM = EVENT_LOG.key()
# The pipeline's tasks (ingest, refresh) queued or running: how far the workers are behind,
# which the consumer reads to batch more while they are busy (shopapp/events/backpressure.py).
IN_FLIGHT_STALE_S = 30
IN_FLIGHT = declare(
    "ss:pipeline:inflight",
    owner="shopapp.events.backpressure",
    scope=Scope.GLOBAL,
    what="sorted set: task ids, scored by when they were queued",
    expires=False,
    lifetime="a member leaves as its task ends; one older than IN_FLIGHT_STALE_S (its task lost "
    "with a worker) is dropped at the next count",
)

# The collector counts events per minute: `{minute}` is the unix time // RATE_WINDOW_S.
RATE_WINDOW_S = 60
RATE_TTL_S = 2 * RATE_WINDOW_S  # its minute, and a minute's slack
SHOP_RATE = declare(
    "ss:{shop}:rate:{minute}",
    owner="shopapp.events.stream",
    scope=Scope.SHOP,
    ttl_s=RATE_TTL_S,
    what="the shop's events that minute",
)
SHOPPER_RATE = declare(
    "ss:{shop}:rate:{minute}:{user}",
    owner="shopapp.events.stream",
    scope=Scope.SHOPPER,
    ttl_s=RATE_TTL_S,
    what="one shopper's events that minute",
)
ADDRESS_RATE = declare(
    "ss:{shop}:rate-addr:{minute}:{address}",
    owner="shopapp.events.stream",
    scope=Scope.SHOP,
    ttl_s=RATE_TTL_S,
    what="events from one client address (an IPv6 /64) that minute",
)
# The visitor ids one address brought to a shop are remembered this long (a sliding hour).
VISITOR_WINDOW_S = 3600
ADDRESS_VISITORS = declare(
    "ss:{shop}:visitors:{address}",
    owner="shopapp.events.stream",
    scope=Scope.SHOP,
    ttl_s=VISITOR_WINDOW_S,
    what="sorted set: digests of the visitor ids that address brought, scored by last seen",
    holds_shoppers=True,
)

# A window outlives its last event by this much wall-clock time, then Redis drops it.
IDLE_TTL_S = 3600
WINDOW = declare(
    "ss:{shop}:win:{user}",
    owner="shopapp.events.window",
    scope=Scope.SHOPPER,
    what="sorted set: the window, members `item|interaction|event_id`, score = event time",
    lifetime="the shop's window length + IDLE_TTL_S after its last write",
)

# Trending counts per hour: `{hour}` is the event time // BUCKET_S.
BUCKET_S = 3600
TREND_TTL_S = 8 * 24 * BUCKET_S  # a week of hours, and a day of slack
TREND_BUCKET = declare(
    "ss:{shop}:trend:{hour}",
    owner="shopapp.events.trending",
    scope=Scope.SHOP,
    ttl_s=TREND_TTL_S,
    what="hash: weighted interactions per product in that hour",
)
# How long an event's "counted" mark lives. History is deduplicated by the database (its unique
# (shop, event_id)) and windows by their members, so the mark only guards these counters, and a
# counter only matters while trending reads its hour: the last 24 h (TrendingConfig.horizon_hours).
# An event's time is at most a day ahead of its arrival (normalise.MAX_CLOCK_SKEW_S), so any copy
# arriving after 24 h of skew + the 24-h horizon + its hour lands in a bucket nothing reads any
# more. That is longer than our own redeliveries (minutes) and than any tracker's retries within
# a visit; a tracker's queue kept across days is harmless by the same argument. A week would only
# keep every fake event's key three times as long.
SEEN_TTL_S = (24 + 24 + 1) * 3600
SEEN = declare(
    "ss:{shop}:seen:{event_id}",
    owner="shopapp.events.trending",
    scope=Scope.EVENT,
    ttl_s=SEEN_TTL_S,
    what="the event was counted in trending",
)

REJECTIONS = declare(
    "ss:{shop}:bad",
    owner="shopapp.events.rejections",
    scope=Scope.SHOP,
    what="list: the newest rejected events with their reason (they may quote shopper ids)",
    holds_shoppers=True,
    expires=False,
    lifetime="bounded to the newest rejections.KEEP; shop/redact deletes it",
)
REJECTIONS_COUNT = declare(
    "ss:{shop}:bad:count",
    owner="shopapp.events.rejections",
    scope=Scope.SHOP,
    what="rejected events ever",
    expires=False,
    lifetime="shop/redact deletes it",
)


def rate_key(shop: str, minute: int | str) -> str:
    return SHOP_RATE.key(shop=shop, minute=minute)


def shopper_rate_key(shop: str, minute: int | str, user_id: str) -> str:
    return SHOPPER_RATE.key(shop=shop, minute=minute, user=user_id)


def address_rate_key(shop: str, minute: int | str, address: str) -> str:
    return ADDRESS_RATE.key(shop=shop, minute=minute, address=address)


def address_visitors_key(shop: str, address: str) -> str:
    return ADDRESS_VISITORS.key(shop=shop, address=address)


def window_key(shop: str, user_id: str) -> str:
    return WINDOW.key(shop=shop, user=user_id)


def trend_key(shop: str, hour: int) -> str:
    return TREND_BUCKET.key(shop=shop, hour=hour)


def seen_key(shop: str, event_id: str) -> str:
    return SEEN.key(shop=shop, event_id=event_id)


def rejections_key(shop: str) -> str:
    return REJECTIONS.key(shop=shop)


def rejections_count_key(shop: str) -> str:
    return REJECTIONS_COUNT.key(shop=shop)
