"""The dashboard's API (`/app/api/*`), authenticated by the session token in the Authorization
header: each view checks its input, calls one service, and turns the outcome into a status.

The POST views are exempt from CSRF: the session token travels in a header, which a forged form
cannot send.
"""

from __future__ import annotations

from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from shopapp.events.importing import ImportFileError, interactions_file_import
from shopapp.events.selectors import latest_interactions
from shopapp.recs.champions import UnknownModel, champion_set, serving_kind_pin
from shopapp.recs.scheduling import first_retrain_claim, retrain_claim
from shopapp.recs.training_status import training_status_get, training_status_set
from shopapp.shops.services import shop_settings_update
from shopapp.web.auth import ShopifyRequest, session_required
from shopapp.web.dashboard.common import shop_of
from shopapp.web.dashboard.overview import overview_charts_render, overview_figures
from shopapp.web.forms import SettingsForm
from workers.tasks import shop_models_retrain

IMPORT_MAX_BYTES = 20 * 1024 * 1024
IMPORT_ERRORS_SHOWN = 200


@require_GET
@session_required
def overview_api(request: ShopifyRequest) -> JsonResponse:
    """The overview's live refresh: its figures, and its charts as the page renders them."""
    figures = overview_figures(shop_of(request))
    return JsonResponse({**figures, "charts": overview_charts_render(figures)})


@csrf_exempt
@require_POST
@session_required
def settings_api(request: ShopifyRequest) -> JsonResponse:
    shop = shop_of(request)
    form = SettingsForm(request.POST, instance=shop.settings)
    if not form.is_valid():
        return JsonResponse({"errors": form.errors.get_json_data()}, status=400)
    shop_settings_update(shop=shop, data=form.cleaned_data)
    return JsonResponse({"saved": True})


@csrf_exempt
@require_POST
@session_required
def promote_api(request: ShopifyRequest) -> JsonResponse:
    """Make a version the champion: a promotion, or a roll-back to an older one."""
    version = request.POST.get("version", "")
    try:
        champion_set(
            shop=request.shopify_session.shop, kind=request.POST.get("kind", ""), version=version
        )
    except UnknownModel as exc:
        return JsonResponse({"error": str(exc)}, status=400)
    return JsonResponse({"champion": version})


@csrf_exempt
@require_POST
@session_required
def retrain_api(request: ShopifyRequest) -> JsonResponse:
    """Retrain this shop's models now; one retraining per shop at a time, so a second click
    while one is queued or running queues nothing."""
    shop = request.shopify_session.shop
    if not retrain_claim(shop=shop):
        return JsonResponse({"state": "already queued"}, status=202)
    # Before the task is queued, so a worker's first "running" is never overwritten by this.
    training_status_set(shop=shop, state="queued")
    shop_models_retrain.delay(shop=shop)
    return JsonResponse({"state": "queued"}, status=202)


@require_GET
@session_required
def retrain_status_api(request: ShopifyRequest) -> JsonResponse:
    return JsonResponse(training_status_get(shop=request.shopify_session.shop) or {"state": "idle"})


@csrf_exempt
@require_POST
@session_required
def pin_api(request: ShopifyRequest) -> JsonResponse:
    """Serve one kind of this shop's models whatever retraining finds; an empty kind goes back
    to the automatic choice."""
    kind = request.POST.get("kind", "")
    try:
        serving_kind_pin(shop=request.shopify_session.shop, kind=kind)
    except UnknownModel as exc:
        return JsonResponse({"error": str(exc)}, status=400)
    return JsonResponse({"pinned": kind or None})


@csrf_exempt
@require_POST
@session_required
def import_api(request: ShopifyRequest) -> JsonResponse:
    """Historical interactions (CSV or JSON Lines with user_id, item_id, interaction_type,
    timestamp): the good rows kept, each bad one reported with its number and reason."""
    upload = request.FILES.get("file")
    if upload is None:
        return JsonResponse({"error": "no file"}, status=400)
    if upload.size and upload.size > IMPORT_MAX_BYTES:
        return JsonResponse({"error": "file larger than 20 MB: split it"}, status=413)
    try:
        report = interactions_file_import(
            shop=request.shopify_session.shop, filename=upload.name or "", data=upload.read()
        )
    except ImportFileError as exc:
        return JsonResponse({"error": str(exc)}, status=400)
    shop = request.shopify_session.shop
    # A shop's first history: its first models now, rather than at beat's next pass.
    if report.accepted and first_retrain_claim(shop=shop):
        training_status_set(shop=shop, state="queued")
        shop_models_retrain.delay(shop=shop)
    return JsonResponse(
        {
            "rows": report.rows,
            "accepted": report.accepted,
            "rejected": len(report.errors),
            "errors": [
                {"line": n, "reason": reason} for n, reason in report.errors[:IMPORT_ERRORS_SHOWN]
            ],
        }
    )


@require_GET
@session_required
def latest_events_api(request: ShopifyRequest) -> JsonResponse:
    """The data page's live view: the newest interactions as normalised."""
    shop = shop_of(request)
    return JsonResponse(
        {
            "events": [
                {
                    "ts": e.ts.strftime("%Y-%m-%d %H:%M:%S"),
                    "user_id": e.user_id,
                    "interaction": e.interaction,
                    "item_id": e.item_id,
                    "event_id": e.event_id,
                }
                for e in latest_interactions(shop_id=shop.pk)
            ]
        }
    )
