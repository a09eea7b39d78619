"""How a Redis key family is declared: its format, the module that writes it, what it is scoped to
and how long it lives. Each domain declares its own families in its `keys.py`
(shopapp/events/keys.py, shopapp/recs/keys.py, shopapp/shopify/keys.py, shopapp/shops/keys.py),
and every key is built through them, so redaction (shopapp/privacy/redis_redact.py) can find a
person's keys from the declarations instead of from formats copied by hand.

The rules a declaration is checked against, so a new family cannot quietly escape redaction:
- a key of a shop starts with `ss:{shop}:` (shop/redact deletes that whole namespace);
- a key that names a shopper has `{user}` and is SHOPPER-scoped; one that names a tracked event
  has `{event_id}` and is EVENT-scoped (customers/redact deletes both kinds);
- a family whose values name shoppers though its key does not says so (`holds_shoppers`), and
  customers/redact refuses to run until it knows how to scrub it;
- a key has a fixed TTL, or its `lifetime` says what decides its TTL or what bounds it and who
  deletes it.
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass, field
from enum import StrEnum


class Scope(StrEnum):
    GLOBAL = "global"  # one key for the deployment
    SHOP = "shop"  # the shop's (per hour, per address, ...), naming no shopper
    SHOPPER = "shopper"  # names one shopper of the shop: `{user}`, a kinded id
    EVENT = "event"  # names one tracked event of the shop: `{event_id}`


# What each named part of a format may hold, to recognise a key. A shopper id (`c:42`), an event
# id (`<eid>:<n>`) and an IPv6 address contain colons: they come last in every format using them.
PARTS = {
    "shop": r"[^:]+",  # the myshopify domain
    "user": r".+",  # a kinded shopper id (shopapp/events/identity.py)
    "event_id": r".+",
    "minute": r"\d+",  # unix time // the rate window
    "hour": r"\d+",  # unix time // 3600
    "address": r".+",  # a client address, or its IPv6 /64
    "state": r"[^:]+",  # an OAuth state nonce
}
SHOP_PREFIX = "ss:{shop}:"
ALL_KEYS = "ss:*"  # a SCAN pattern for every key of ours (not Celery's)


@dataclass(frozen=True, slots=True)
class KeyFamily:
    format: str  # `str.format` fields named as in PARTS
    owner: str  # the module that writes it
    scope: Scope
    what: str  # what its value is
    ttl_s: int | None = None  # the TTL every write sets, when it is one number
    lifetime: str = ""  # without ttl_s: what decides the TTL, or what bounds it and who deletes it
    expires: bool = True  # False: no TTL at all
    holds_shoppers: bool = False  # its values name shoppers: customers/redact scrubs them
    parts: tuple[str, ...] = field(init=False, compare=False)
    _regex: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        pieces = list(string.Formatter().parse(self.format))
        object.__setattr__(self, "parts", tuple(name for _, name, _, _ in pieces if name))
        _check(self)
        regex = "".join(
            re.escape(text) + (f"(?P<{name}>{PARTS[name]})" if name else "")
            for text, name, _, _ in pieces
        )
        object.__setattr__(self, "_regex", re.compile(regex))

    def key(self, **parts: str | int) -> str:
        if len(parts) != len(self.parts) or not all(name in parts for name in self.parts):
            raise TypeError(f"{self.format} takes {self.parts}, not {tuple(parts)}")
        return self.format.format(**parts)

    def pattern(self, **parts: str | int) -> str:
        """A SCAN pattern for the keys with these parts (glob-escaped), any value for the rest."""
        return self.format.format(
            **{name: glob_escape(str(parts[name])) if name in parts else "*" for name in self.parts}
        )

    def match(self, key: str) -> dict[str, str] | None:
        """The key's parts if the key is of this family."""
        found = self._regex.fullmatch(key)
        return found.groupdict() if found else None


def _check(family: KeyFamily) -> None:
    names = set(family.parts)
    unknown = names - PARTS.keys()
    problems = [f"unknown parts {sorted(unknown)}"] if unknown else []
    if len(names) != len(family.parts):
        problems.append("a part named twice")
    if family.scope is Scope.GLOBAL:
        if "shop" in names or not family.format.startswith("ss:"):
            problems.append("a global key starts with `ss:` and names no shop")
    elif not family.format.startswith(SHOP_PREFIX):
        problems.append(f"a shop's key starts with {SHOP_PREFIX}")
    if ("user" in names) != (family.scope is Scope.SHOPPER):
        problems.append("a key names a shopper ({user}) exactly when it is SHOPPER-scoped")
    if ("event_id" in names) != (family.scope is Scope.EVENT):
        problems.append("a key names an event ({event_id}) exactly when it is EVENT-scoped")
    if not family.expires and family.ttl_s is not None:
        problems.append("a key that does not expire has no ttl_s")
    if family.ttl_s is None and not family.lifetime:
        problems.append("without a ttl_s, lifetime says how long it lives")
    if problems:
        raise ValueError(f"Redis key {family.format}: " + "; ".join(problems))


_DECLARED: dict[str, KeyFamily] = {}


def declare(
    format: str,
    *,
    owner: str,
    scope: Scope,
    what: str,
    ttl_s: int | None = None,
    lifetime: str = "",
    expires: bool = True,
    holds_shoppers: bool = False,
) -> KeyFamily:
    """A domain's key family, added to the families `declared()` lists (once per format)."""
    family = KeyFamily(
        format=format,
        owner=owner,
        scope=scope,
        what=what,
        ttl_s=ttl_s,
        lifetime=lifetime,
        expires=expires,
        holds_shoppers=holds_shoppers,
    )
    if format in _DECLARED:
        raise ValueError(f"Redis key {format} is declared twice")
    _DECLARED[format] = family
    return family


def declared(scope: Scope | None = None) -> list[KeyFamily]:
    """The families of the key modules imported so far (a caller imports the ones it needs)."""
    return [f for f in _DECLARED.values() if scope is None or f.scope is scope]


def family_of(key: str) -> KeyFamily | None:
    """The declared family a key belongs to, if any."""
    return next((f for f in _DECLARED.values() if f.match(key) is not None), None)


def shop_pattern(shop: str) -> str:
    """A SCAN pattern for every key of the shop: each non-global family lives under it."""
    return SHOP_PREFIX.format(shop=glob_escape(shop)) + "*"


def glob_escape(text: str) -> str:
    return "".join(f"\\{c}" if c in "*?[]\\" else c for c in text)
