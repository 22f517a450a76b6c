"""Session documents mirrored from the repository, content encrypted at rest."""

from __future__ import annotations

from django.db import models

from annoris.encryption import decrypt_text
from annoris.fields import CiphertextField
from sessions_app.managers import SessionManager


class SessionState(models.TextChoices):
    """What a session's free-text status says, derived when the document is parsed."""

    DONE = "done", "Done"
    IN_PROGRESS = "in_progress", "In progress"
    BLOCKED = "blocked", "Blocked"
    PLANNED = "planned", "Planned"
    UNKNOWN = "unknown", "Unknown"


class Session(models.Model):
    """One session document. ``id`` is stable: front matter ``id:`` or uuid5(repository, path)."""

    id = models.UUIDField(primary_key=True, editable=False)
    created_at = models.DateTimeField(db_index=True)
    project = models.ForeignKey(
        "projects_app.Project", null=True, blank=True, on_delete=models.SET_NULL, related_name="sessions"
    )
    priority = models.CharField(max_length=50, blank=True)
    status = models.CharField(max_length=100, blank=True, help_text="The status as written in the document.")
    state = models.CharField(
        max_length=20,
        choices=SessionState.choices,
        default=SessionState.UNKNOWN,
        db_index=True,
        help_text="Derived from the status: done, in progress, blocked, planned or unknown.",
    )
    title = models.CharField(max_length=300)
    next_step = models.CharField("next", max_length=500, blank=True)
    content = CiphertextField(help_text="AES-256-GCM ciphertext of the document.")
    github_path = models.CharField("path", max_length=500, unique=True)
    github_sha = models.CharField("blob SHA", max_length=40)
    checksum = models.CharField(max_length=32, help_text="MD5 hex of the plaintext.")
    size = models.PositiveIntegerField(default=0, help_text="Size of the document in bytes (UTF-8).")
    last_synced = models.DateTimeField()
    deleted_at = models.DateTimeField(null=True, blank=True, db_index=True)

    objects = SessionManager()

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["project", "-created_at"], name="session_project_created")]

    def __str__(self) -> str:
        return self.title

    @property
    def text(self) -> str:
        """The decrypted document (raises annoris.crypto.DecryptionError)."""
        return decrypt_text(self.content)
