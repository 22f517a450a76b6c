"""``Session.objects``: querysets plus the read path's ``fetch``, plugged in by
``SessionsConfig.ready()`` (the read path imports the model, so the model cannot import it)."""

from __future__ import annotations

import uuid
from datetime import datetime
from types import ModuleType
from typing import TYPE_CHECKING, ClassVar

from django.db import models

if TYPE_CHECKING:
    from annoris.sources.base import Source
    from projects_app.models import Project
    from sessions_app.models import Session  # noqa: F401 - the manager's type parameter
    from sessions_app.readpath.read import FetchResult


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


class SessionManager(models.Manager.from_queryset(SessionQuerySet)):  # type: ignore[misc]
    """Querysets chain as usual and ``get()`` stays the plain lookup; ``fetch*`` go through the read path."""

    read_path: ClassVar[ModuleType]  # sessions_app.readpath.read, set by SessionsConfig.ready()

    def fetch(self, session_id: uuid.UUID | str, *, source: Source | None = None) -> FetchResult:
        """The live session: cache, database, then source (``readpath.read.fetch``, its errors)."""
        return self.read_path.fetch(session_id, source=source)

    def fetch_by_path(
        self, path: str, *, sha: str | None = None, source: Source | None = None
    ) -> FetchResult:
        """The live session stored at ``path``, in the same order as ``fetch`` (see readpath)."""
        return self.read_path.fetch_by_path(path, sha=sha, source=source)
