"""Request ids on log lines: the middleware sets one per request, the filter stamps each record.

The id is the proxy's ``X-Request-ID`` when it sends a sane one (so a line in our logs
can be matched to the router's), else a new random one. It is echoed in the response's
``X-Request-ID``. Outside a request (the worker, management commands) it is ``-``.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Callable
from contextvars import ContextVar

from django.http import HttpRequest, HttpResponse

NO_REQUEST = "-"
HEADER = "X-Request-ID"
_request_id: ContextVar[str] = ContextVar("annoris_request_id", default=NO_REQUEST)
# What a proxy's id may look like: bounded, and nothing that could forge a log line.
_SANE_ID = re.compile(r"[A-Za-z0-9._:-]{8,64}")


def current_request_id() -> str:
    return _request_id.get()


class RequestIdFilter(logging.Filter):
    """Adds ``record.request_id`` (``-`` outside a request) so every formatter can show it."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = _request_id.get()
        return True


class RequestIdMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        offered = request.headers.get(HEADER, "")
        request_id = offered if _SANE_ID.fullmatch(offered) else uuid.uuid4().hex
        request.request_id = request_id  # type: ignore[attr-defined]
        token = _request_id.set(request_id)
        try:
            response = self.get_response(request)
        finally:
            _request_id.reset(token)
        response[HEADER] = request_id
        return response


class GunicornRequestIdFilter(logging.Filter):
    """For gunicorn's loggers: an access line's request id is its response's X-Request-ID."""

    def filter(self, record: logging.LogRecord) -> bool:
        atoms = record.args if isinstance(record.args, dict) else {}
        record.request_id = atoms.get("{x-request-id}o") or NO_REQUEST
        return True
