"""The sessions viewset the router registers: reads (sessions_app) plus writes (sync_app.api)."""

from __future__ import annotations

from sessions_app.api import SessionReadViewSet


class SessionViewSet(SessionReadViewSet):
    """``/api/sessions/`` and ``/api/sessions/{id}/``."""
