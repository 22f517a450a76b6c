"""Projects that sessions belong to."""

from __future__ import annotations

import uuid

from django.db import models

# Fixed namespace: a project's id derives from its name, so a database rebuilt
# from GitHub gives every project the id it had before (DESIGN: identity).
PROJECT_ID_NAMESPACE = uuid.UUID("3c0f8d53-8f2b-5b4e-a7b1-5e8d1c9a2f60")


def project_id_for(name: str) -> uuid.UUID:
    return uuid.uuid5(PROJECT_ID_NAMESPACE, name.strip().casefold())


class Project(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        PAUSED = "paused", "Paused"
        DONE = "done", "Done"
        ARCHIVED = "archived", "Archived"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=255, unique=True)
    status = models.CharField(max_length=100, choices=Status.choices, default=Status.ACTIVE)
    priority = models.IntegerField(default=0, help_text="Higher comes first.")
    target_revenue = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True)
    current_revenue = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True)
    last_updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-priority", "name"]

    def __str__(self) -> str:
        return self.name

    @property
    def revenue_progress(self) -> float | None:
        """current / target as a fraction, or None when no target is set."""
        if not self.target_revenue:
            return None
        return float((self.current_revenue or 0) / self.target_revenue)
