"""The sessions viewset the router registers: reads (sessions_app) plus writes (sync_app.api)."""

from __future__ import annotations

from sessions_app.api import SessionReadViewSet
from sync_app.api.session_writes import SessionWriteMixin


class SessionViewSet(SessionWriteMixin, SessionReadViewSet):
    """``/api/sessions/`` and ``/api/sessions/{id}/``: list, read, create, replace, change, delete.

    The write mixin comes first: its ``get_permissions`` and ``handle_exception`` wrap the
    read viewset's.
    """
