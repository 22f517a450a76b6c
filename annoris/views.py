"""The landing page at ``/``: what this is, and where to go (admin, API docs, health)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
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
