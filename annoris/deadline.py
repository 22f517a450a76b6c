"""A request deadline ahead of gunicorn's worker timeout (issue #20, smaller findings).

gunicorn's sync worker is aborted when one request outlasts its ``timeout``: the client gets
gunicorn's own HTML 500 page and the worker is replaced. gunicorn.conf.py installs a
shorter deadline in each sync worker (``install``, from its ``post_worker_init`` hook); this
middleware arms it for every request as a SIGALRM timer. A request still running when it
fires is stopped the way gunicorn would have stopped it, by ``SystemExit`` raised wherever
the request is (gunicorn's ``handle_abort`` does the same), but a few seconds earlier, and it
is answered here in the API's JSON error shape: 503 with ``Retry-After``. The request may
have been stopped half-way through anything, so the worker exits after the answer
(gunicorn.conf.py's ``post_request`` reads ``EXPIRED`` in the WSGI environ) and a fresh one
takes its place, as after a timeout.

Where nothing installed a deadline (runserver, tests, gunicorn's threaded workers, which kill
no slow request) the middleware only calls the next one.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable
from types import FrameType

from django.http import HttpRequest, HttpResponse

from annoris.api.errors import json_error, retry_after

logger = logging.getLogger(__name__)

EXPIRED = "annoris.deadline_expired"  # the SystemExit code, and the WSGI environ key set after


class Deadline:
    """The SIGALRM handler: a request may take ``seconds``; past that it is stopped."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds

    def __call__(self, signum: int, frame: FrameType | None) -> None:
        raise SystemExit(EXPIRED)


def install(seconds: float) -> None:
    """Give every request of this process ``seconds`` (call it in the process's main thread)."""
    signal.signal(signal.SIGALRM, Deadline(seconds))


class RequestDeadlineMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        deadline = signal.getsignal(signal.SIGALRM)
        if not isinstance(deadline, Deadline) or threading.current_thread() is not threading.main_thread():
            return self.get_response(request)
        signal.setitimer(signal.ITIMER_REAL, deadline.seconds)
        try:
            response = self.get_response(request)
            left = signal.setitimer(signal.ITIMER_REAL, 0)[0]  # 0: it fired and someone caught the exit
        except SystemExit as stop:
            signal.setitimer(signal.ITIMER_REAL, 0)
            if stop.code != EXPIRED:
                raise
            return _expired(request, deadline.seconds)
        if left > 0:
            return response
        request.META[EXPIRED] = True  # the process is suspect all the same: recycle it
        return response if response.status_code < 500 else _expired(request, deadline.seconds)


def _expired(request: HttpRequest, seconds: float) -> HttpResponse:
    request.META[EXPIRED] = True
    logger.error("Request stopped at its %g s deadline: %s %s", seconds, request.method, request.path)
    response = json_error(
        503, f"The request took longer than {seconds:g} s and was stopped; try again shortly.", "timeout"
    )
    for name, value in retry_after(503).items():
        response[name] = value
    return response
