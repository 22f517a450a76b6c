"""HTTP endpoints of the sync app; thin: they call health and the webhook handler."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from sync_app import webhooks
from sync_app.health import health_report
from sync_app.health_access import may_see_details, public


@require_GET
def health(request: HttpRequest) -> JsonResponse:
    healthy, report = health_report()
    shown = report if may_see_details(request) else public(report)  # counts: staff or a token (#20)
    return JsonResponse(shown, status=200 if healthy else 503)


@csrf_exempt  # GitHub cannot send a CSRF token; the HMAC signature authenticates the call
@require_POST
def github_webhook(request: HttpRequest) -> JsonResponse:
    """POST /webhooks/github: see ``sync_app.webhooks`` for the checks and their statuses."""
    reply = webhooks.handle(request)
    return JsonResponse({"detail": reply.detail}, status=reply.status)
