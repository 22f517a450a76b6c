"""Dynamic client registration (RFC 7591): DOT's endpoint, for public clients only,
with Annoris's redirect-URI rule and a per-IP rate limit."""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse, JsonResponse
from oauth2_provider.views import DynamicClientRegistrationManagementView, DynamicClientRegistrationView

from annoris.oauth.redirects import redirect_uris_problem

WINDOW_SECONDS = 3600
ALLOWED_GRANTS = {"authorization_code", "refresh_token"}


def client_ip(request: HttpRequest) -> str:
    """The caller's address: behind the proxy (SECURE_PROXY_SSL_HEADER set) the last hop it
    appended to X-Forwarded-For, else the socket's peer. A client cannot choose either."""
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if getattr(settings, "SECURE_PROXY_SSL_HEADER", None) and forwarded:
        return forwarded.split(",")[-1].strip()
    return request.META.get("REMOTE_ADDR", "")


def take_registration_slot(ip: str) -> bool:
    """Count one registration for ``ip``; False once the hour's allowance is used."""
    key = f"annoris:v1:oauth-registrations:{ip}"
    cache.add(key, 0, WINDOW_SECONDS)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, WINDOW_SECONDS)
        count = 1
    return count <= settings.ANNORIS_OAUTH_REGISTRATIONS_PER_HOUR


def metadata_problem(data: Any) -> str | None:
    """Why Annoris refuses this client metadata (before DOT validates the rest), or None."""
    if not isinstance(data, dict):
        return None  # DOT answers malformed bodies itself
    if data.get("token_endpoint_auth_method") != "none":
        return "Only public clients are registered: send token_endpoint_auth_method 'none' and use PKCE."
    grants = data.get("grant_types", ["authorization_code"])
    if not isinstance(grants, list) or not set(grants) <= ALLOWED_GRANTS:
        return "grant_types may only be authorization_code and refresh_token."
    return redirect_uris_problem(data.get("redirect_uris"))


def refusal(request: HttpRequest) -> JsonResponse | None:
    """The 400 for a body Annoris refuses, or None to let DOT handle it."""
    try:
        data = json.loads(request.body)
    except ValueError:
        return None
    problem = metadata_problem(data)
    if not problem:
        return None
    error = "invalid_redirect_uri" if "redirect" in problem else "invalid_client_metadata"
    return JsonResponse({"error": error, "error_description": problem}, status=400)


class RegistrationView(DynamicClientRegistrationView):
    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not take_registration_slot(client_ip(request)):
            response = JsonResponse(
                {"error": "slow_down", "error_description": "Too many registrations from this address."},
                status=429,
            )
            response["Retry-After"] = str(WINDOW_SECONDS)
            return response
        return refusal(request) or super().post(request, *args, **kwargs)


class RegistrationManagementView(DynamicClientRegistrationManagementView):
    """RFC 7592 (read, update, delete one's registration): an update follows the same rules."""

    def put(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return refusal(request) or super().put(request, *args, **kwargs)
