"""HTTP endpoints of the sync app; thin: they call health and the webhook handler."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers

from annoris.api.browsers import wants_html
from sync_app import webhooks
from sync_app.health import health_report
from sync_app.health_access import may_see_details, public
from sync_app.templatetags.annoris_health import health_rows


@require_GET
@vary_on_headers("Accept")
def health(request: HttpRequest) -> HttpResponse:
    """The health report: JSON for probes and scripts; the same as a page for a browser (HTML in
    ``Accept``, no ``?format=json``), so the landing page's link is no dead end."""
    healthy, report = health_report()
    status = 200 if healthy else 503
    shown = report if may_see_details(request) else public(report)  # counts: staff or a token (#20)
    if request.GET.get("format") != "json" and wants_html(request):
        context = {"overall": shown.get("status", ""), "rows": health_rows(shown)}
        return render(request, "sync_app/health.html", context, status=status)
    return JsonResponse(shown, status=status)


@csrf_exempt  # GitHub cannot send a CSRF token; the HMAC signature authenticates the call
@require_POST
def github_webhook(request: HttpRequest) -> JsonResponse:
    """POST /webhooks/github: see ``sync_app.webhooks`` for the checks and their statuses."""
    reply = webhooks.handle(request)
    return JsonResponse({"detail": reply.detail}, status=reply.status)
