"""Customer data exports (customers/data_request) for the merchant to hand over: listed on the
Data page and downloaded as JSON, each only by its own shop's session, until it expires."""

from __future__ import annotations

import json

from django.http import HttpResponse, JsonResponse
from django.views.decorators.http import require_GET

from shopapp.privacy.selectors import export_data, exports_list
from shopapp.web.auth import ShopifyRequest, session_required


@require_GET
@session_required
def exports_api(request: ShopifyRequest) -> JsonResponse:
    return JsonResponse(
        {
            "exports": [
                {
                    "id": e.id,
                    "customer_id": e.customer_id,
                    "data_request_id": e.data_request_id,
                    "created_at": e.created_at.isoformat(),
                    "expires_at": e.expires_at.isoformat(),
                }
                for e in exports_list(shop_domain=request.shopify_session.shop)
            ]
        }
    )


@require_GET
@session_required
def export_download(request: ShopifyRequest, export_id: int) -> HttpResponse:
    data = export_data(shop_domain=request.shopify_session.shop, export_id=export_id)
    if data is None:
        return JsonResponse({"error": "no such export"}, status=404)
    response = HttpResponse(json.dumps(data, indent=2), content_type="application/json")
    response["Content-Disposition"] = f'attachment; filename="customer-data-{export_id}.json"'
    response["Cache-Control"] = "no-store"
    return response
