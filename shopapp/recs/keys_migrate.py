"""Shopper keys written before shopper ids had kinds, moved to the kinded form once.

Before, `ss:{shop}:win:{id}` and friends held a bare id that was a visitor's or a customer's by
who sent it (and anyone could send a customer's). After: a bare UUID was the tracker's visitor id,
so its keys are renamed to the `v:` form; every other bare id cannot be proven to be anyone's, so
its keys are deleted (a window lives an hour, a list is recomputed at the shopper's next event).
Metaobject entries are not touched here: see docs/decisions/0007-metaobject-handles.md.
"""

from __future__ import annotations

import re
from collections import Counter

import redis

from shopapp.events.identity import is_user_id, visitor_user

# The shopper-keyed families, with the shopper id as the key's last part.
_SHOPPER_KEY_RE = re.compile(r"^(ss:[^:]+:(?:win|recs|recq|pubq)):(.+)$")
_UUID_RE = re.compile(
    r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
)


def shopper_keys_migrate(*, r: redis.Redis, match: str = "ss:*") -> Counter[str]:
    """Rename or delete every bare-id shopper key among the keys `match` (a SCAN pattern) finds;
    returns {"renamed": n, "deleted": m}."""
    done: Counter[str] = Counter()
    for key in r.scan_iter(match=match, count=1000):
        found = _SHOPPER_KEY_RE.match(key)
        if found is None or is_user_id(found.group(2)):
            continue
        family, bare = found.groups()
        if _UUID_RE.match(bare) and r.renamenx(key, f"{family}:{visitor_user(bare)}"):
            done["renamed"] += 1
            continue
        done["deleted"] += int(r.delete(key))
    return done
