"""Infrastructure models: hashed, scoped API tokens (issue #7)."""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class ApiTokenQuerySet(models.QuerySet):
    def active(self) -> ApiTokenQuerySet:
        """Tokens that authenticate now: not revoked, not expired."""
        now = timezone.now()
        return self.filter(revoked_at__isnull=True).filter(
            models.Q(expires_at__isnull=True) | models.Q(expires_at__gt=now)
        )


class ApiToken(models.Model):
    """An API token. Only the SHA-256 of the secret is stored; the secret is shown once.

    A token is 256 random bits, so a fast hash is enough: there is nothing to brute-force
    (a slow password hash would only slow every first check of a token).
    """

    class Scope(models.TextChoices):
        READ = "read", "Read"
        WRITE = "write", "Read and write"

    name = models.CharField(max_length=100, help_text="Who or what uses the token, e.g. 'claude laptop'.")
    scope = models.CharField(max_length=10, choices=Scope.choices, default=Scope.READ)
    prefix = models.CharField(
        max_length=16, editable=False, help_text="The secret's first characters, to recognise it."
    )
    digest = models.CharField(
        max_length=64, unique=True, editable=False, help_text="SHA-256 hex of the secret."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(null=True, blank=True, help_text="Empty: never expires.")
    last_used_at = models.DateTimeField(
        null=True, blank=True, editable=False, help_text="Updated at most once per recheck interval."
    )
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "API token"

    def __str__(self) -> str:
        return f"{self.name} ({self.scope}, {self.prefix}…)"

    @property
    def is_active(self) -> bool:
        if self.revoked_at is not None:
            return False
        return self.expires_at is None or self.expires_at > timezone.now()
