"""Who sees what of /health (issue #20, smaller findings).

Platform probes and anyone on the internet get the status of each part and the whole,
nothing more. The counts (queued tasks, outbox entries, drift, write-backs, since when a
layer is down) say how busy and how far behind the deployment is: they need a staff member's
admin session or a valid API token (any scope).
"""

from __future__ import annotations

from typing import Any

from django.db import DatabaseError
from django.http import HttpRequest
from rest_framework import exceptions
from rest_framework.request import Request
from rest_framework.settings import api_settings


def may_see_details(request: HttpRequest) -> bool:
    """A logged-in staff member, or a request carrying a valid API token."""
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated and user.is_staff:
        return True
    if not request.META.get("HTTP_AUTHORIZATION"):
        return False
    authenticators = [cls() for cls in api_settings.DEFAULT_AUTHENTICATION_CLASSES]
    try:
        found = Request(request, authenticators=authenticators).user
    except (exceptions.APIException, DatabaseError):
        return False
    return bool(found is not None and found.is_authenticated)


def public(report: dict[str, Any]) -> dict[str, Any]:
    """The report with each part cut to its status."""
    return {
        name: ({"status": part.get("status")} if isinstance(part, dict) else part)
        for name, part in report.items()
    }
