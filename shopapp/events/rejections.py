"""What was refused (a tracker event, a webhook body that cannot be read): counted per shop and
kept, bounded, for the dashboard."""

from __future__ import annotations

import json
import time
from collections.abc import Sequence

from shopapp.events.keys import rejections_count_key, rejections_key
from shopapp.redis import get_redis

KEEP = 200  # the newest rejected events kept per shop
# What one kept rejection may cost: a reason can quote a sender's value, an event is any size.
REASON_CHARS = 300
EVENT_CHARS = 2000


def rejections_record(*, shop: str, rejected: Sequence[tuple[str, object]]) -> None:
    """Keep (reason, raw event) pairs; the raw event is truncated so a huge one costs little."""
    if not rejected:
        return
    now = time.time()
    rows = [
        json.dumps({"at": now, "reason": reason[:REASON_CHARS], "event": _excerpt(raw)})
        for reason, raw in rejected
    ]
    pipe = get_redis().pipeline(transaction=False)
    pipe.lpush(rejections_key(shop), *rows)
    pipe.ltrim(rejections_key(shop), 0, KEEP - 1)
    pipe.incrby(rejections_count_key(shop), len(rows))
    pipe.execute()


def _excerpt(raw: object) -> str:
    """The start of the raw event as JSON; whatever it is, keeping it never fails."""
    try:
        return json.dumps(raw)[:EVENT_CHARS]
    except (TypeError, ValueError, RecursionError):  # not JSON data (a bug upstream)
        return f"<{type(raw).__name__} that is not JSON>"


def rejections_list(*, shop: str, limit: int = 50) -> list[dict[str, object]]:
    return [json.loads(row) for row in get_redis().lrange(rejections_key(shop), 0, limit - 1)]
