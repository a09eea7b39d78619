"""Events the collector refused: counted per shop and kept, bounded, for the dashboard."""

from __future__ import annotations

import json
import time
from collections.abc import Sequence

from shopapp.redis import get_redis

KEEP = 200  # the newest rejected events kept per shop


def rejections_key(shop: str) -> str:
    return f"ss:{shop}:bad"


def rejections_record(*, shop: str, rejected: Sequence[tuple[str, object]]) -> None:
    """Keep (reason, raw event) pairs; the raw event is truncated so a huge one costs little."""
    if not rejected:
        return
    now = time.time()
    rows = [
        json.dumps({"at": now, "reason": reason, "event": json.dumps(raw)[:2000]})
        for reason, raw in rejected
    ]
    pipe = get_redis().pipeline(transaction=False)
    pipe.lpush(rejections_key(shop), *rows)
    pipe.ltrim(rejections_key(shop), 0, KEEP - 1)
    pipe.incrby(f"{rejections_key(shop)}:count", len(rows))
    pipe.execute()


def rejections_list(*, shop: str, limit: int = 50) -> list[dict[str, object]]:
    return [json.loads(row) for row in get_redis().lrange(rejections_key(shop), 0, limit - 1)]
