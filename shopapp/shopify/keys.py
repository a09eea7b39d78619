"""The Shopify side's Redis keys: our view of each shop's Admin API cost bucket, and the state of
the legacy authorization-code grant. Each family is declared once (shopapp/rediskeys.py) with its
lifetime; the modules that write them build their keys here."""

from __future__ import annotations

from shopapp.rediskeys import Scope, declare

# Past an hour without a call, the bucket has long refilled: Shopify's next answer restates it.
GQL_BUCKET_TTL_S = 3600
GQL_BUCKET = declare(
    "ss:{shop}:gql:bucket",
    owner="shopapp.shopify.graphql",
    scope=Scope.SHOP,
    what="hash: our view of the shop's Admin API cost bucket, shared by every worker",
    ttl_s=GQL_BUCKET_TTL_S,
)

# The merchant approves the scopes within this long, or starts the install again.
OAUTH_STATE_TTL_S = 600
OAUTH_STATE = declare(
    "ss:oauth:state:{state}",
    owner="shopapp.web.auth",
    scope=Scope.GLOBAL,
    what="the legacy install's state nonce, bound to the shop (its value); spent on the callback",
    ttl_s=OAUTH_STATE_TTL_S,
)


def bucket_key(shop: str) -> str:
    return GQL_BUCKET.key(shop=shop)


def oauth_state_key(state: str) -> str:
    return OAUTH_STATE.key(state=state)
