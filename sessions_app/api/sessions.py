"""The sessions viewset the router registers: reads (sessions_app) plus writes (sync_app.api)."""

from __future__ import annotations

from sessions_app.api.views import SessionReadViewSet
from sessions_app.api.writes import SessionWriteMixin


# The write mixin comes first: its get_permissions and handle_exception wrap the read viewset's.
class SessionViewSet(SessionWriteMixin, SessionReadViewSet):
    """Session documents: list, read, create, replace, change and delete them.

    Reads come from the cache, the database or GitHub (the `X-Annoris-Source` header says
    which); writes go to GitHub first.
    """
