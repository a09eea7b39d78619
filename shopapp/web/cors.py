"""CORS for the collector: the tracker runs on the shop's storefront origin, not ours.

Errors carry the headers too: a browser that cannot read an error treats it as a network failure
and the tracker would retry a permanently bad batch for ever.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse


def with_cors(request: HttpRequest, response: HttpResponse) -> HttpResponse:
    origin = request.headers.get("Origin")
    response["Access-Control-Allow-Origin"] = origin or "*"
    if origin:
        response["Vary"] = "Origin"
    response["Access-Control-Allow-Methods"] = "POST, GET, OPTIONS"
    response["Access-Control-Allow-Headers"] = "Content-Type, SP-Anonymous"
    response["Access-Control-Max-Age"] = "3600"
    return response
