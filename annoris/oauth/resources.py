"""The protected resources (RFC 8707 / RFC 9728) and the 401 challenge that points at them.

Two resources, both under ``ANNORIS_PUBLIC_URL``: the MCP endpoint (what connectors ask
for, and the default) and the REST API. A token is bound to one and refused on the other.
"""

from __future__ import annotations

from django.conf import settings

SCOPES = "read write"


def mcp_resource() -> str:
    return f"{settings.ANNORIS_PUBLIC_URL}/mcp"


def api_resource() -> str:
    return f"{settings.ANNORIS_PUBLIC_URL}/api/"


def known_resources() -> tuple[str, ...]:
    return (mcp_resource(), api_resource())


def resource_for_path(path: str) -> str:
    """The resource a request path belongs to: the API for ``/api/...``, else MCP."""
    return api_resource() if path.startswith("/api/") else mcp_resource()


def metadata_url(resource: str) -> str:
    """RFC 9728 §3.1: the well-known URL with the resource's path appended."""
    path = resource.removeprefix(settings.ANNORIS_PUBLIC_URL).strip("/")
    return f"{settings.ANNORIS_PUBLIC_URL}/.well-known/oauth-protected-resource/{path}"


def challenge(path: str, *, realm: str = "annoris", error: str | None = None) -> str:
    """The ``WWW-Authenticate`` value for a 401 on ``path`` (RFC 6750, RFC 9728 §5.1)."""
    parts = [f'realm="{realm}"']
    if error:
        parts.append(f'error="{error}"')
    if settings.ANNORIS_PUBLIC_URL:
        parts.append(f'resource_metadata="{metadata_url(resource_for_path(path))}"')
    parts.append(f'scope="{SCOPES}"')
    return "Bearer " + ", ".join(parts)
