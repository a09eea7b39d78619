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
