"""Which redirect URIs a client may register and use (OAuth 2.1, RFC 8252).

https anywhere; http only on a loopback host (``127.0.0.1``, ``[::1]``, ``localhost``; DOT
then allows any port, as native apps need). No fragment, no userinfo. Matching is exact
otherwise (DOT's ``redirect_to_uri_allowed``).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from annoris.oauth.config import is_loopback_host


def redirect_uri_problem(uri: str) -> str | None:
    """Why ``uri`` may not be a redirect URI, or None when it may."""
    try:
        parts = urlsplit(uri)
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError:
        return "is not a valid URL"
    if parts.scheme not in ("https", "http") or not parts.hostname:
        return "must be an absolute https URL (or http on a loopback host)"
    if parts.scheme == "http" and not is_loopback_host(parts.hostname):
        return "may use http only on 127.0.0.1, [::1] or localhost"
    if "#" in uri or "@" in parts.netloc:
        return "must not carry a fragment or credentials"
    return None


def redirect_uris_problem(uris: object) -> str | None:
    """The first problem in a list of redirect URIs (RFC 7591 ``redirect_uris``), or None."""
    if not isinstance(uris, list) or not uris or not all(isinstance(u, str) for u in uris):
        return "redirect_uris must be a non-empty array of strings"
    for uri in uris:
        problem = redirect_uri_problem(uri)
        if problem:
            return f"redirect URI {uri[:200]!r} {problem}"
    return None
