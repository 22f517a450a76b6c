"""The session manager: ordinary Django querysets plus the read path's ``fetch``."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from django.db import models

from sessions_app.querysets import SessionQuerySet

if TYPE_CHECKING:
    from annoris.sources.base import Source
    from sessions_app.models import Session  # noqa: F401 - the manager's type parameter
    from sessions_app.readpath import FetchResult


class SessionManager(models.Manager.from_queryset(SessionQuerySet)):  # type: ignore[misc]
    """``Session.objects``: ``live()``, ``for_project()``, ``changed_since()`` chain as usual;
    ``get()`` stays the plain database lookup. ``fetch*`` go through the read path.
    """

    def fetch(self, session_id: uuid.UUID | str, *, source: Source | None = None) -> FetchResult:
        """The live session ``session_id``, trying the cache, then the database, then the source.

        Returns FetchResult(session, layer, elapsed_ms); a database hit is written back to the
        cache, a source hit to the database (queued while it is down) and the cache. Raises
        SessionNotFound, or SessionUnavailable when neither the database nor the source answers.
        """
        from sessions_app import readpath  # the read path imports the model: import on use

        return readpath.fetch(session_id, source=source)

    def fetch_by_path(
        self, path: str, *, sha: str | None = None, source: Source | None = None
    ) -> FetchResult:
        """The live session stored at ``path``, in the same order as ``fetch`` (see readpath)."""
        from sessions_app import readpath

        return readpath.fetch_by_path(path, sha=sha, source=source)
