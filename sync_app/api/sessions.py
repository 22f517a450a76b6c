"""The sessions viewset the router registers: reads (sessions_app) plus writes (sync_app.api)."""

from __future__ import annotations

from typing import Any

from rest_framework.request import Request
from rest_framework.response import Response

from sessions_app.api import SessionReadViewSet
from sync_app.api.pending_reads import pending_or
from sync_app.api.session_writes import SessionWriteMixin


# The write mixin comes first: its get_permissions and handle_exception wrap the read viewset's.
class SessionViewSet(SessionWriteMixin, SessionReadViewSet):
    """Session documents: list, read, create, replace, change and delete them.

    Reads come from the cache, the database or GitHub (the `X-Annoris-Source` header says
    which); writes go to GitHub first.
    """

    def finalize_response(self, request: Request, response: Response, *args: Any, **kwargs: Any) -> Response:
        """A read the read path answered 404 or 503 may be of a create still in the outbox: that
        is served pending (#20 finding 11); every other answer is left as it is."""
        if getattr(self, "action", None) == "retrieve" and response.status_code in (404, 503):
            if hasattr(request, "accepted_renderer"):
                response = pending_or(request, self.kwargs["id"], response)
        return super().finalize_response(request, response, *args, **kwargs)
