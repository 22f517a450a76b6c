"""A connection: one authorization a person gave a client (claude.ai, ChatGPT, ...).

DOT keeps grants and tokens; a connection ties together what one consent produced: the code
(as its SHA-256, so a replayed code finds the tokens to revoke) and the refresh-token family
that rotation grows from it. It is what the admin lists and revokes.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


class ConnectionQuerySet(models.QuerySet["Connection"]):
    def live(self) -> ConnectionQuerySet:
        return self.filter(revoked_at__isnull=True)


class Connection(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    application = models.ForeignKey(
        settings.OAUTH2_PROVIDER_APPLICATION_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    scope = models.CharField(max_length=100)
    resource = models.URLField(max_length=500)
    code_digest = models.CharField(max_length=64, unique=True)
    token_family = models.UUIDField(null=True, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = ConnectionQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "connected app"
        permissions = [("connect_assistant", "Can connect an assistant (OAuth consent)")]

    def __str__(self) -> str:
        return f"{self.application.name or self.application.client_id} for {self.user}"
