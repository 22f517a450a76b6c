"""The consent page, its login page and the per-resource metadata: thin over DOT's views."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from oauth2_provider.exceptions import OAuthToolkitError
from oauth2_provider.views import AuthorizationView, OAuthProtectedResourceMetadataView
from oauthlib.oauth2.rfc6749.errors import CustomOAuth2Error

from annoris.oauth.resources import api_resource
from annoris.oauth.validator import bound_resource

PERMISSION = "annoris_oauth.connect_assistant"


def may_authorize(user: Any) -> bool:
    """Who may connect an assistant: staff, and anyone given the permission."""
    return bool(user.is_active and (user.is_staff or user.has_perm(PERMISSION)))


class ConsentView(AuthorizationView):
    """DOT's authorization endpoint, shown in the admin's look; S256 and a resource of ours only."""

    template_name = "oauth/consent.html"

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if "approval_prompt" in request.GET:  # DOT lets a client ask to skip consent ("auto"): never
            request.GET = request.GET.copy()
            del request.GET["approval_prompt"]
        if request.user.is_authenticated and not may_authorize(request.user):
            context = {**admin.site.each_context(request), "title": "Not allowed"}
            return render(request, "oauth/not_allowed.html", context, status=403)
        return super().dispatch(request, *args, **kwargs)

    def validate_authorization_request(self, request: HttpRequest) -> tuple[list[str], dict[str, Any]]:
        scopes, credentials = super().validate_authorization_request(request)
        refusal = None
        if credentials.get("code_challenge_method") != "S256":
            refusal = ("invalid_request", "PKCE with code_challenge_method S256 is required.")
        elif bound_resource(request.GET.getlist("resource")) is None:
            refusal = ("invalid_target", "Unknown resource: ask for this server's /mcp.")
        if refusal:
            error = CustomOAuth2Error(
                error=refusal[0], description=refusal[1], state=credentials.get("state")
            )
            raise OAuthToolkitError(error=error, redirect_uri=credentials["redirect_uri"])
        return scopes, credentials

    def render_to_response(self, context: dict[str, Any], **kwargs: Any) -> HttpResponse:
        context = {**admin.site.each_context(self.request), "title": "Connect an assistant", **context}
        if context.get("redirect_uri"):
            context["redirect_host"] = urlsplit(context["redirect_uri"]).netloc
        context["resource_shown"] = bound_resource(str(context.get("resource") or "").split())
        response = super().render_to_response(context, **kwargs)
        if context.get("redirect_uri") and not context.get("error"):
            # CSP form-action also governs where the form's POST may redirect (Chromium enforces
            # it): allow the client's redirect origin, already checked against its registration.
            # django-csp reads this attribute per response (what its decorators set).
            target = urlsplit(context["redirect_uri"])
            response._csp_update = {"form-action": [f"{target.scheme}://{target.netloc}"]}  # type: ignore[attr-defined]
        return response


class LoginView(auth_views.LoginView):
    """The admin's login page for anyone with an account (the admin's own admits staff only)."""

    template_name = "oauth/login.html"  # the admin's login.html, with one line on why

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context.update(admin.site.each_context(self.request))
        context.update(title="Log in", app_path=self.request.get_full_path())
        return context


class ApiResourceMetadataView(OAuthProtectedResourceMetadataView):
    """RFC 9728 metadata of the REST API (the MCP endpoint's is DOT's view as configured)."""

    def get_resource(self, request: HttpRequest) -> str:
        return api_resource()
