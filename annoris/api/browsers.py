"""A browser under /api/ that is not logged in goes to the login page, and back after it.

A person following the landing page's links to the browsable API or the API docs must not
dead-end on a JSON 401 (issue #19). A client that asks for JSON, sends credentials or names
another format keeps the JSON error; only a request that asks for HTML without credentials
is redirected.
"""

from __future__ import annotations

from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.urls import reverse


def wants_html(request: HttpRequest) -> bool:
    """The request asks for a page: ``?format=api``, or HTML in ``Accept`` and no other format."""
    requested = request.GET.get("format")
    if requested:
        return requested == "api"
    return "text/html" in request.META.get("HTTP_ACCEPT", "")


def login_instead(request: HttpRequest, response: HttpResponse) -> HttpResponse | None:
    """A redirect to the admin's login (``?next=`` this page) for a browser refused for want of
    credentials; None for anything else."""
    if response.status_code not in (401, 403) or "HTTP_AUTHORIZATION" in request.META:
        return None
    user = getattr(request, "user", None)
    if (user is not None and user.is_authenticated) or not wants_html(request):
        return None
    if response.status_code == 403 and getattr(response, "data", {}).get("code") != "not_authenticated":
        return None
    return redirect_to_login(request.get_full_path(), reverse("admin:login"))
