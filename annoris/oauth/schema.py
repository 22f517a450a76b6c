"""How OAuth access tokens appear in the API's OpenAPI schema (drf-spectacular)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from drf_spectacular.extensions import OpenApiAuthenticationExtension

from annoris.oauth.config import SCOPES


class OAuthScheme(OpenApiAuthenticationExtension):
    target_class = "annoris.oauth.authentication.OAuthTokenAuthentication"
    name = "oauth2"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        issuer = settings.ANNORIS_PUBLIC_URL or ""
        flow = {
            "authorizationUrl": f"{issuer}/oauth/authorize/",
            "tokenUrl": f"{issuer}/oauth/token/",
            "refreshUrl": f"{issuer}/oauth/token/",
            "scopes": SCOPES,
        }
        return {
            "type": "oauth2",
            "description": f"An OAuth 2.1 access token issued for the resource {issuer}/api/ (PKCE S256).",
            "flows": {"authorizationCode": flow},
        }
