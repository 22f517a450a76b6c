"""Services over connections: revoke one (admin, code replay) and purge what expired."""

from __future__ import annotations

import logging
from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from oauth2_provider.models import AccessToken, RefreshToken, clear_expired

from annoris.oauth import access
from annoris.oauth.models import Connection

logger = logging.getLogger("annoris.oauth")
KEEP_REVOKED_DAYS = 30  # a revoked connection stays listed (and its code's replay detectable) this long


def connection_revoke(*, connection: Connection) -> None:
    """Revoke every token of ``connection``: at once here, in other processes within
    ``ANNORIS_TOKEN_RECHECK`` (the API tokens' bound)."""
    digests: list[str] = []
    with transaction.atomic():
        if connection.token_family is not None:
            digests = list(
                AccessToken.objects.filter(refresh_token__token_family=connection.token_family).values_list(
                    "token_checksum", flat=True
                )
            )
            RefreshToken.revoke_family(connection.token_family)
        Connection.objects.filter(pk=connection.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
    access.forget(digests)
    logger.info("OAuth connection %s revoked (client %s)", connection.pk, connection.application_id)


def revoke_for_code(code_digest: str) -> None:
    """A code was presented again: revoke what its first exchange issued."""
    connection = Connection.objects.live().filter(code_digest=code_digest).first()
    if connection is not None:
        logger.warning("An authorization code was replayed; revoking connection %s", connection.pk)
        connection_revoke(connection=connection)


def purge_expired() -> int:
    """DOT's ``clear_expired`` (grants, codes, tokens), then connections left with no token
    or revoked long ago; returns how many connections went."""
    clear_expired()
    cutoff = timezone.now() - timedelta(days=KEEP_REVOKED_DAYS)
    live_families = RefreshToken.objects.filter(revoked__isnull=True).values("token_family")
    stale = Connection.objects.filter(revoked_at__lt=cutoff) | Connection.objects.filter(
        created_at__lt=cutoff, revoked_at__isnull=True
    ).exclude(token_family__in=live_families)
    deleted, _ = Connection.objects.filter(pk__in=stale.values("pk")).delete()
    return deleted
