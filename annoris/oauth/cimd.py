"""Fetching a Client ID Metadata Document, bounded (issue #16).

DOT's ``SafeMetadataFetcher`` does the hard parts and this class keeps them: https only, the
host resolved once and every address checked public (no private, loopback, link-local or
metadata-service address), the connection made to that checked address (no DNS rebinding),
no redirects, one deadline for the whole fetch (``CIMD_FETCH_TIMEOUT_SECONDS``), a size cap
(``CIMD_MAX_DOCUMENT_SIZE``) and a cache (the Application row until the document's max-age,
and a failure backoff). What it adds:

- the redirect URIs must pass Annoris's rule (https, or http on loopback);
- loopback addresses may be allowed for tests only (``ANNORIS_OAUTH_CIMD_ALLOW_LOOPBACK``,
  refused by settings with DEBUG off), so a test can serve a document from 127.0.0.1.

The fetch loop is DOT's, rewritten here around one address check because DOT's resolver is
a module function a subclass cannot swap; it uses DOT's URL validation, public-address
test and document reader (private helpers: pinned version, covered by the refusal tests).
"""

from __future__ import annotations

import ipaddress
import socket
import ssl
import time
from typing import Any

import urllib3
from django.conf import settings
from oauth2_provider import cimd as dot_cimd
from oauth2_provider.cimd import CIMDError, SafeMetadataFetcher
from oauth2_provider.settings import oauth2_settings

from annoris.oauth.redirects import redirect_uris_problem


def address_allowed(ip: str) -> bool:
    if dot_cimd._ip_is_public(ip):
        return True
    return settings.ANNORIS_OAUTH_CIMD_ALLOW_LOOPBACK and ipaddress.ip_address(ip).is_loopback


def resolve(hostname: str, port: int) -> list[str]:
    """Every address of ``hostname``, each allowed, or CIMDError (one bad address refuses all)."""
    try:
        infos = socket.getaddrinfo(hostname, port, proto=socket.IPPROTO_TCP)
    except socket.gaierror as exc:
        raise CIMDError(f"could not resolve client_id host: {exc}") from exc
    ips = [info[4][0] for info in infos]
    if not ips or not all(address_allowed(ip) for ip in ips):
        raise CIMDError("client_id host resolves to a non-public address")
    return ips


class BoundedFetcher(SafeMetadataFetcher):
    def fetch(self, client_id: str) -> tuple[dict[str, Any], int]:
        metadata, max_age = self._fetch(client_id)
        problem = redirect_uris_problem(metadata.get("redirect_uris"))
        if problem:
            raise CIMDError(problem)
        return metadata, max_age

    def _fetch(self, client_id: str) -> tuple[dict[str, Any], int]:
        parsed = dot_cimd._validate_client_id_url(client_id)
        port = parsed.port or 443
        ips = resolve(parsed.hostname, port)
        path = parsed.path + (f"?{parsed.query}" if parsed.query else "")
        headers = {"Host": parsed.netloc, "Accept": "application/json, application/*+json"}
        deadline = time.monotonic() + oauth2_settings.CIMD_FETCH_TIMEOUT_SECONDS
        last_error: Exception | None = None
        for ip in ips:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            pool = urllib3.HTTPSConnectionPool(
                host=ip, port=port, retries=False, maxsize=1,
                timeout=urllib3.Timeout(connect=remaining, read=remaining, total=remaining),
                ssl_context=ssl.create_default_context(), server_hostname=parsed.hostname,
            )  # fmt: skip
            try:
                response = pool.urlopen("GET", path, headers=headers, redirect=False, preload_content=False)
                try:
                    return self._read_document(response)
                finally:
                    response.release_conn()
            except urllib3.exceptions.HTTPError as exc:
                last_error = exc
            finally:
                pool.close()
        raise CIMDError(f"could not fetch client_id document: {type(last_error).__name__}")
