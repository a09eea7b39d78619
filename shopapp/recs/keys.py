"""The recs domain's Redis keys: shoppers' lists and their refresh and publish claims, the shop's
fallback lists and operational figures, and the retraining's progress. Each family is declared
once (shopapp/rediskeys.py) with its lifetime; the modules that write them build their keys here."""

from __future__ import annotations

from shopapp.rediskeys import Scope, declare

# A shopper's list lives a week after it was last computed; the app proxy falls back past that.
RECS_TTL_S = 7 * 24 * 3600
# A visitor's (`v:<uuid>`) list lives a day: the rest of the visit and a same-day return. Past
# that their window (1 h idle) is long gone, so the list is no fresher than the shop's fallback
# lists, and their next event recomputes it (from their history) within a second; meanwhile an
# invented visitor id's list is gone a day after its last event instead of a week.
VISITOR_RECS_TTL_S = 24 * 3600
RECS = declare(
    "ss:{shop}:recs:{user}",
    owner="shopapp.recs.store",
    scope=Scope.SHOPPER,
    what="JSON: items, scores, model version, source, computed at",
    lifetime="visitors (`v:…`) VISITOR_RECS_TTL_S, everyone else RECS_TTL_S",
)
# A refresh claimed but never run (its task lost) stops blocking new ones after this long.
REFRESH_CLAIM_TTL_S = 30
REFRESH_CLAIM = declare(
    "ss:{shop}:recq:{user}",
    owner="shopapp.recs.store",
    scope=Scope.SHOPPER,
    what="a recommendation refresh is queued (coalescing); deleted as the refresh starts",
    ttl_s=REFRESH_CLAIM_TTL_S,
)
# Publishing to Shopify coalesces the same way, over a longer delay (store.PUBLISH_DELAY_S).
PUBLISH_CLAIM_TTL_S = 120
PUBLISH_CLAIM = declare(
    "ss:{shop}:pubq:{user}",
    owner="shopapp.recs.store",
    scope=Scope.SHOPPER,
    what="a metaobject publish is queued for this customer; deleted as the publish starts",
    ttl_s=PUBLISH_CLAIM_TTL_S,
)

POPULAR = declare(
    "ss:{shop}:popular",
    owner="shopapp.recs.store",
    scope=Scope.SHOP,
    what="JSON: the shop-wide fallback list (beat, every minute)",
    ttl_s=RECS_TTL_S,
)
TRENDING_TTL_S = 3600
TRENDING = declare(
    "ss:{shop}:trending",
    owner="shopapp.recs.store",
    scope=Scope.SHOP,
    what="JSON: the trending-now list (beat, every minute)",
    ttl_s=TRENDING_TTL_S,
)
# Rebuilt by beat every 6 hours; kept two days so a failed rebuild does not empty it.
COVISIT_TTL_S = 2 * 24 * 3600
COVISIT = declare(
    "ss:{shop}:covisit",
    owner="shopapp.recs.store",
    scope=Scope.SHOP,
    what="hash: product -> its top co-visited neighbours as JSON",
    ttl_s=COVISIT_TTL_S,
)
COVISIT_STAGING = declare(
    "ss:{shop}:covisit:next",
    owner="shopapp.recs.store",
    scope=Scope.SHOP,
    what="hash: the co-visitation table being rebuilt",
    expires=False,
    lifetime="never outlives its transaction: renamed to COVISIT (or deleted) in the same MULTI",
)

# Bumped by every write of the shop's catalogue, so a worker's cached shop exclusions
# (recs/exclusions.py) are recomputed exactly when the products they come from change.
CATALOGUE_GENERATION = declare(
    "ss:{shop}:catalogue:gen",
    owner="shopapp.recs.exclusions",
    scope=Scope.SHOP,
    what="int: a counter of the shop's catalogue writes",
    expires=False,
    lifetime="as long as the shop's catalogue; shop/redact deletes it",
)

# Operational figures the dashboard shows: the latest freshness samples and lists served per hour.
FRESHNESS_SAMPLES = 1000
FRESHNESS = declare(
    "ss:{shop}:fresh",
    owner="shopapp.recs.store",
    scope=Scope.SHOP,
    what="list: the latest freshness samples (ms from acceptance to the rewritten list)",
    expires=False,
    lifetime="bounded to the newest FRESHNESS_SAMPLES; shop/redact deletes it",
)
SERVED_TTL_S = 8 * 24 * 3600
SERVED = declare(
    "ss:{shop}:served:{hour}",
    owner="shopapp.recs.serving",
    scope=Scope.SHOP,
    what="lists the app proxy served that hour (`{hour}`: unix time // 3600)",
    ttl_s=SERVED_TTL_S,
)

# A publish checks the shop's definitions (Shopify calls) at most once a day.
DEFINITION_CHECKED_TTL_S = 24 * 3600
DEFINITION_CHECKED = declare(
    "ss:{shop}:mo:definition",
    owner="shopapp.recs.sync",
    scope=Scope.SHOP,
    what="the metaobject and metafield definitions were checked present",
    ttl_s=DEFINITION_CHECKED_TTL_S,
)

TRAINING_STATUS_TTL_S = 7 * 24 * 3600
TRAINING_STATUS = declare(
    "ss:{shop}:train:status",
    owner="shopapp.recs.training_status",
    scope=Scope.SHOP,
    what="JSON: the shop's latest retraining's progress, for its dashboard",
    ttl_s=TRAINING_STATUS_TTL_S,
)
# A retraining of the shop is queued or running: one at a time per shop (single flight), so
# repeated clicks on Retrain and beat's passes queue nothing more. Outlives the task's hard limit.
TRAINING_LOCK_TTL_S = 3600
TRAINING_LOCK = declare(
    "ss:{shop}:train:lock",
    owner="shopapp.recs.training",
    scope=Scope.SHOP,
    what="string: a retraining of the shop is queued or running",
    ttl_s=TRAINING_LOCK_TTL_S,
)


def training_status_key(shop: str) -> str:
    return TRAINING_STATUS.key(shop=shop)


def training_lock_key(shop: str) -> str:
    return TRAINING_LOCK.key(shop=shop)


def catalogue_generation_key(shop: str) -> str:
    return CATALOGUE_GENERATION.key(shop=shop)


def recs_key(shop: str, user_id: str) -> str:
    return RECS.key(shop=shop, user=user_id)


def refresh_claim_key(shop: str, user_id: str) -> str:
    return REFRESH_CLAIM.key(shop=shop, user=user_id)


def publish_claim_key(shop: str, user_id: str) -> str:
    return PUBLISH_CLAIM.key(shop=shop, user=user_id)


def popular_key(shop: str) -> str:
    return POPULAR.key(shop=shop)


def trending_key(shop: str) -> str:
    return TRENDING.key(shop=shop)


def covisit_key(shop: str) -> str:
    return COVISIT.key(shop=shop)


def covisit_staging_key(shop: str) -> str:
    return COVISIT_STAGING.key(shop=shop)


def freshness_key(shop: str) -> str:
    return FRESHNESS.key(shop=shop)


def served_key(shop: str, hour: int) -> str:
    return SERVED.key(shop=shop, hour=hour)


def definition_checked_key(shop: str) -> str:
    return DEFINITION_CHECKED.key(shop=shop)
