"""DOT's request validator with what Annoris adds (each override names why).

- Authorization codes are stored as their SHA-256 (DOT stores them as issued; it hashes
  tokens but not codes). The token request hashes the presented code once, in
  ``validate_code``, and every later lookup of that request uses the hash.
- A code presented twice revokes what the first exchange issued (RFC 6749 §4.1.2).
- The ``resource`` (RFC 8707) defaults to the MCP endpoint and must be one of ours; every
  token is bound to exactly one resource.
- Redirect URIs: http only on loopback hosts, even for a client registered otherwise.
"""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError
from oauth2_provider.models import RefreshToken
from oauth2_provider.oauth2_validators import OAuth2Validator
from oauthlib.common import Request
from oauthlib.oauth2.rfc6749.errors import CustomOAuth2Error, InvalidGrantError

from annoris.api.tokens import digest_of
from annoris.oauth import access, connections
from annoris.oauth.models import Connection
from annoris.oauth.redirects import redirect_uri_problem
from annoris.oauth.resources import known_resources, mcp_resource


def bound_resource(requested: object) -> str | None:
    """The one resource a grant is for: ours, defaulting to MCP; None when not acceptable."""
    if isinstance(requested, str):
        requested = [requested]
    if not requested:
        return mcp_resource()
    if not isinstance(requested, list) or len(requested) != 1 or not isinstance(requested[0], str):
        return None
    wanted = requested[0].rstrip("/")
    return next((r for r in known_resources() if r.rstrip("/") == wanted), None)


class AnnorisValidator(OAuth2Validator):
    def save_authorization_code(
        self, client_id: str, code: dict, request: Request, *args: Any, **kwargs: Any
    ) -> None:  # type: ignore[type-arg]
        resource = bound_resource(getattr(request, "resource", None))
        if resource is None:
            raise CustomOAuth2Error(
                error="invalid_target",
                description="Unknown resource: ask for this server's /mcp.",
                request=request,
            )
        request.resource = [resource]
        super().save_authorization_code(
            client_id, {**code, "code": digest_of(code["code"])}, request, *args, **kwargs
        )

    def validate_code(
        self, client_id: str, code: str, client: Any, request: Request, *args: Any, **kwargs: Any
    ) -> bool:
        digest = digest_of(code)
        request.code = digest  # oauthlib passes request.code to every later lookup of this request
        if super().validate_code(client_id, digest, client, request, *args, **kwargs):
            return True
        connections.revoke_for_code(digest)  # a replay: revoke the tokens the first use got
        return False

    def save_bearer_token(self, token: dict, request: Request, *args: Any, **kwargs: Any) -> None:  # type: ignore[type-arg]
        try:
            super().save_bearer_token(token, request, *args, **kwargs)  # one transaction
        except IntegrityError:  # the same code redeemed concurrently: the other request won
            raise InvalidGrantError(description="This code was already used.", request=request) from None

    def _save_bearer_token(self, token: dict, request: Request, *args: Any, **kwargs: Any) -> None:  # type: ignore[type-arg]
        previous = getattr(request, "refresh_token_instance", None)
        replaced = getattr(getattr(previous, "access_token", None), "token_checksum", None)
        super()._save_bearer_token(token, request, *args, **kwargs)
        if replaced:  # rotation deleted the previous access token: stop accepting it here at once
            access.forget([replaced])
        if request.grant_type == "authorization_code" and token.get("refresh_token"):
            family = (
                RefreshToken.objects.filter(token_checksum=digest_of(token["refresh_token"]))
                .values_list("token_family", flat=True)
                .first()
            )
            Connection.objects.create(
                user=request.user,
                application=request.client,
                scope=token["scope"],
                resource=request.resource[0],
                code_digest=request.code,
                token_family=family,
            )

    def validate_redirect_uri(
        self, client_id: str, redirect_uri: str, request: Request, *args: Any, **kwargs: Any
    ) -> bool:
        if redirect_uri_problem(redirect_uri):
            return False
        return super().validate_redirect_uri(client_id, redirect_uri, request, *args, **kwargs)

    def revoke_token(
        self, token: str, token_type_hint: str | None, request: Request, *args: Any, **kwargs: Any
    ) -> None:
        super().revoke_token(token, token_type_hint, request, *args, **kwargs)
        access.forget([digest_of(token)])  # RFC 7009: this process stops accepting it at once
