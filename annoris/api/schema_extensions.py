"""drf-spectacular extensions: how the API's authenticators appear in the schema."""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class BearerTokenScheme(OpenApiAuthenticationExtension):
    target_class = "annoris.api.authentication.ApiTokenAuthentication"
    name = "bearerAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "An API token (`manage.py api_token create`); `Token <token>` works too. "
            "Read tokens may GET; write tokens may also change things.",
        }


class BrowserSessionScheme(OpenApiAuthenticationExtension):
    target_class = "annoris.api.authentication.ApiSessionAuthentication"
    name = "cookieAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return {
            "type": "apiKey",
            "in": "cookie",
            "name": "sessionid",
            "description": "A Django admin login (staff may write; unsafe methods need the CSRF token).",
        }
