"""The landing page at ``/``: what this is, and where to go (admin, API docs, health)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, HttpResponsePermanentRedirect
from django.shortcuts import render
from django.templatetags.static import static
from django.urls import NoReverseMatch, reverse
from django.views.decorators.http import require_GET


def _url(name: str) -> str:
    try:
        return reverse(name)
    except NoReverseMatch:
        return ""


@require_GET
def landing(request: HttpRequest) -> HttpResponse:
    links = {
        "admin": reverse("admin:index"),
        "docs": _url("api-docs"),  # Swagger UI, when it is installed
        "schema": _url("api-schema"),
        "sessions": _url("session-list"),
        "health": _url("health"),
    }
    return render(request, "annoris/landing.html", {"links": links})


@require_GET
def favicon(request: HttpRequest) -> HttpResponse:
    """``/favicon.ico``, which browsers ask for on pages that name no icon: Annoris's SVG icon."""
    return HttpResponsePermanentRedirect(static("annoris/favicon.svg"))
