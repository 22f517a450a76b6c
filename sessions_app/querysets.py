"""Reusable filters for sessions."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from django.db import models

if TYPE_CHECKING:
    from projects_app.models import Project


class SessionQuerySet(models.QuerySet):
    def live(self) -> SessionQuerySet:
        """Sessions whose file is still in the repository (not soft-deleted)."""
        return self.filter(deleted_at__isnull=True)

    def deleted(self) -> SessionQuerySet:
        return self.filter(deleted_at__isnull=False)

    def for_project(self, project: Project) -> SessionQuerySet:
        return self.filter(project=project)

    def changed_since(self, moment: datetime) -> SessionQuerySet:
        return self.filter(last_synced__gt=moment)
