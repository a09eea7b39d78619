"""Tracker-protocol (tp2) events built by hand, as the Snowplow trackers send them: the requests
of the tests and the load of the benchmarks. Nothing in the app imports this (the demo is the top
layer); the demo's own shoppers speak through the real tracker (shoppers.py).
"""

from __future__ import annotations

import base64
import json
import uuid
from typing import Any

PAYLOAD = "iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4"
UNSTRUCT = "iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-0"
CONTEXTS = "iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-0"
ACTION = "iglu:com.snowplowanalytics.snowplow.ecommerce/snowplow_ecommerce_action/jsonschema/1-0-2"
PRODUCT = "iglu:com.snowplowanalytics.snowplow.ecommerce/product/jsonschema/1-0-0"
TRANSACTION = "iglu:com.snowplowanalytics.snowplow.ecommerce/transaction/jsonschema/1-0-0"
# A tracker's visitor id (`duid`: a random UUID) and the shopper id it becomes downstream.
DUID = "0b1f3c52-8e4d-4c55-9f0a-6c1d2e3f4a5b"
VISITOR = f"v:{DUID}"


def product_event(
    *,
    shop: str,
    item: str,
    action: str = "product_view",
    duid: str = DUID,
    dtm: int = 1_767_225_600_000,
    encode: bool = False,
    **extra: str,
) -> dict[str, str]:
    ue = {"schema": UNSTRUCT, "data": {"schema": ACTION, "data": {"type": action}}}
    co = {
        "schema": CONTEXTS,
        "data": [
            {
                "schema": PRODUCT,
                "data": {"id": item, "category": "shoes", "price": 10.0, "currency": "USD"},
            }
        ],
    }
    event = {
        "e": "ue",
        "eid": str(uuid.uuid4()),
        "tv": "py-1.1.0",
        "p": "web",
        "aid": shop,
        "duid": duid,
        "dtm": str(dtm),
        "stm": str(dtm),
    }
    if encode:
        event["ue_px"] = base64.urlsafe_b64encode(json.dumps(ue).encode()).decode().rstrip("=")
        event["cx"] = base64.urlsafe_b64encode(json.dumps(co).encode()).decode()
    else:
        event["ue_pr"], event["co"] = json.dumps(ue), json.dumps(co)
    return {**event, **extra}


def page_view(*, shop: str) -> dict[str, str]:
    return {
        "e": "pv",
        "eid": str(uuid.uuid4()),
        "tv": "js-4.10.1",
        "p": "web",
        "aid": shop,
        "duid": DUID,
        "url": f"https://{shop}/",
    }


def payload(*events: dict[str, Any]) -> bytes:
    return json.dumps({"schema": PAYLOAD, "data": list(events)}).encode()


def slipstream_event(
    *, shop: str, name: str, data: dict[str, Any], version: str = "1-0-0", duid: str = DUID
) -> dict[str, str]:
    ue = {
        "schema": UNSTRUCT,
        "data": {"schema": f"iglu:app.slipstream/{name}/jsonschema/{version}", "data": data},
    }
    return {
        "e": "ue",
        "eid": str(uuid.uuid4()),
        "tv": "js-slipstream-0.1",
        "p": "web",
        "aid": shop,
        "duid": duid,
        "ue_pr": json.dumps(ue),
    }
