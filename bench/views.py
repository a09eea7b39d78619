"""The collector benchmark's baseline: parse the JSON body and push it to Redis, nothing else."""

from __future__ import annotations

import json

from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt

from shopapp.redis import get_redis


@csrf_exempt
def baseline(request: HttpRequest) -> HttpResponse:
    events = json.loads(request.body)["data"]
    get_redis().lpush("bench:baseline", json.dumps(events))
    return HttpResponse(b"ok", content_type="text/plain")


CONSTANT = json.dumps(
    {
        "items": [
            {
                "item_id": str(n),
                "title": f"Product {n}",
                "price": "10.00",
                "currency": "USD",
                "url": f"/products/p{n}",
                "image_url": "",
                "score": 1.0,
            }
            for n in range(10)
        ],
        "model_version": "baseline",
        "source": "baseline",
    }
).encode()


def proxy_baseline(request: HttpRequest) -> HttpResponse:
    """The proxy benchmark's baseline: a constant JSON body of a full list, nothing else."""
    return HttpResponse(CONSTANT, content_type="application/json")
