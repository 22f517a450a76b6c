"""The authorization server's configuration, from one setting: ``ANNORIS_PUBLIC_URL``.

Imported by ``annoris/settings.py`` (no Django imports here). The issuer, every metadata URL
and the resource identifiers are built from that URL, never from a request's ``Host``.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from annoris.errors import ConfigurationError

LOOPBACK_NAMES = ("localhost",)
ACCESS_TOKEN_SECONDS = 3600  # issue #16: an hour by default (ANNORIS_OAUTH_ACCESS_TOKEN_SECONDS)
REFRESH_TOKEN_DAYS = 30  # a connector unused this long must be authorized again
SCOPES = {"read": "read your sessions", "write": "write sessions to GitHub"}


def is_loopback_host(host: str | None) -> bool:
    """``localhost``, ``127.0.0.0/8`` or ``::1`` (brackets allowed)."""
    if not host:
        return False
    host = host.strip("[]").lower()
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def public_url(value: str) -> str | None:
    """The normalised ``ANNORIS_PUBLIC_URL`` (no trailing slash), or None when unset.

    Raises ConfigurationError (one line) for anything but an absolute https URL, or http
    on a loopback host (a developer's machine, the test stack).
    """
    value = value.strip().rstrip("/")
    if not value:
        return None
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
        raise ConfigurationError(f"ANNORIS_PUBLIC_URL must be an absolute https URL, not {value!r}")
    if parts.scheme == "http" and not is_loopback_host(parts.hostname):
        raise ConfigurationError(
            "ANNORIS_PUBLIC_URL must use https (the OAuth issuer); http is only allowed for localhost"
        )
    return value


def provider_settings(issuer: str, *, access_token_seconds: int) -> dict[str, object]:
    """django-oauth-toolkit's ``OAUTH2_PROVIDER`` for an issuer (see the README's OAuth section)."""
    return {
        "OIDC_ISS_ENDPOINT": issuer,  # the issuer and endpoint URLs in RFC 8414 metadata
        "OAUTH2_PROTECTED_RESOURCE_IDENTIFIER": f"{issuer}/mcp",
        "OAUTH2_PROTECTED_RESOURCE_AUTHORIZATION_SERVERS": [issuer],
        "OAUTH2_PROTECTED_RESOURCE_NAME": "Annoris",
        "OAUTH2_VALIDATOR_CLASS": "annoris.oauth.validator.AnnorisValidator",
        "SCOPES": SCOPES,
        "DEFAULT_SCOPES": ["read"],
        "ACCESS_TOKEN_EXPIRE_SECONDS": access_token_seconds,
        "REFRESH_TOKEN_EXPIRE_SECONDS": REFRESH_TOKEN_DAYS * 86400,
        "AUTHORIZATION_CODE_EXPIRE_SECONDS": 60,
        "ROTATE_REFRESH_TOKEN": True,
        "REFRESH_TOKEN_REUSE_PROTECTION": True,  # a replayed refresh token revokes its family
        "REFRESH_TOKEN_GRACE_PERIOD_SECONDS": 0,  # required by hashed storage
        "PKCE_REQUIRED": True,
        "ALLOWED_REDIRECT_URI_SCHEMES": ["https", "http"],  # http: loopback only (annoris.oauth.redirects)
        "ALLOW_LOCALHOST_LOOPBACK": True,  # RFC 8252: any port on 127.0.0.1, [::1] and localhost
        "REQUEST_APPROVAL_PROMPT": "force",  # the consent page every time
        "OAUTH2_RESPONSE_TYPES_SUPPORTED": ["code"],
        "OAUTH2_GRANT_TYPES_SUPPORTED": ["authorization_code", "refresh_token"],
        "OAUTH2_TOKEN_ENDPOINT_AUTH_METHODS_SUPPORTED": ["none"],  # public clients (PKCE)
        # RFC 9700 (OAuth 2.0 Security BCP): every gate on. PKCE "plain", the implicit and
        # password grants and tokens in query strings are refused; tokens are stored as
        # SHA-256 only; the authorization response carries `iss` (RFC 9207).
        "COMPLIANT_BCP_RFC9700_IMPLICIT_GRANT": True,
        "COMPLIANT_BCP_RFC9700_PASSWORD_GRANT": True,
        "COMPLIANT_BCP_RFC9700_PKCE_METHOD": True,
        "COMPLIANT_BCP_RFC9700_ACCESS_TOKEN_TRANSPORT": True,
        "COMPLIANT_BCP_RFC9700_AUTHZ_RESPONSE_ISS": True,
        "COMPLIANT_BCP_RFC9700_TOKEN_STORAGE": True,
        "COMPLIANT_BCP_RFC9700_REFRESH_TOKEN": True,
        "COMPLIANT_BCP_RFC9700_REDIRECT_URI_MATCHING": True,
        "COMPLIANT_BCP_RFC9700_PKCE_REQUIRED": True,
        # Open registration of public clients (claude.ai, ChatGPT register themselves),
        # rate-limited per IP by annoris.oauth.registration.
        "DCR_ENABLED": True,
        "DCR_REGISTRATION_PERMISSION_CLASSES": ("oauth2_provider.dcr.AllowAllDCRPermission",),
        "DCR_REGISTRATION_TOKEN_EXPIRE_SECONDS": REFRESH_TOKEN_DAYS * 86400,
        # Client ID Metadata Documents, fetched with annoris.oauth.cimd's bounds.
        "CIMD_ENABLED": True,
        "CIMD_METADATA_FETCHER": "annoris.oauth.cimd.BoundedFetcher",
        "CIMD_FETCH_TIMEOUT_SECONDS": 5,
        "CIMD_MAX_DOCUMENT_SIZE": 16 * 1024,
    }
