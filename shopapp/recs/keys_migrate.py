"""Shopper keys written before shopper ids had kinds, moved to the kinded form once.

Before, `ss:{shop}:win:{id}` and friends held a bare id that was a visitor's or a customer's by
who sent it (and anyone could send a customer's). After: a bare UUID was the tracker's visitor id,
so its keys are renamed to the `v:` form; every other bare id cannot be proven to be anyone's, so
its keys are deleted (a window lives an hour, a list is recomputed at the shopper's next event).
Metaobject entries are not touched here: see docs/decisions/0007-metaobject-handles.md.
"""

from __future__ import annotations

from collections import Counter

import redis

from shopapp.events.identity import is_user_id, uuid_canonical, visitor_user
from shopapp.events.keys import WINDOW
from shopapp.recs.keys import PUBLISH_CLAIM, RECS, REFRESH_CLAIM
from shopapp.rediskeys import ALL_KEYS

# The shopper-keyed families that existed before kinds (rate counters live two minutes).
_FAMILIES = (WINDOW, RECS, REFRESH_CLAIM, PUBLISH_CLAIM)


def shopper_keys_migrate(*, r: redis.Redis, match: str = ALL_KEYS) -> Counter[str]:
    """Rename or delete every bare-id shopper key among the keys `match` (a SCAN pattern) finds;
    returns {"renamed": n, "deleted": m}."""
    done: Counter[str] = Counter()
    for key in r.scan_iter(match=match, count=1000):
        found = next(((f, p) for f in _FAMILIES if (p := f.match(key)) is not None), None)
        if found is None or is_user_id(found[1]["user"]):
            continue
        family, parts = found
        if uuid_canonical(parts["user"]) and r.renamenx(
            key, family.key(shop=parts["shop"], user=visitor_user(parts["user"]))
        ):
            done["renamed"] += 1
            continue
        done["deleted"] += int(r.delete(key))
    return done
