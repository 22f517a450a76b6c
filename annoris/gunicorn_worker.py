"""gunicorn's sync worker, answering the requests gunicorn itself refuses in the API's JSON shape.

gunicorn refuses a malformed request (a NUL in a header, a request line or header over its
limits, a bad chunk) while parsing it, before any hook or the app runs, and
``Worker.handle_error`` writes gunicorn/util.py's ``write_error`` page: text/html, repeating the
request line. gunicorn takes a worker class by name (``worker_class`` in gunicorn.conf.py);
this one hands ``handle_error`` a view of the client socket that writes the same status as the
API's error shape, ``{"detail", "code", "errors"}``, with a fixed sentence per status that
echoes nothing of the request. Everything else is gunicorn's own sync worker.
"""

from __future__ import annotations

import json
import socket
from typing import Any

from gunicorn.workers.sync import SyncWorker

__all__ = ["JsonErrorWorker"]

_DETAILS = {
    400: (
        "Malformed request: a header or the request line holds what HTTP does not allow.",
        "bad_request",
    ),
    403: ("The request is forbidden.", "forbidden"),
    414: ("The request line is too long.", "uri_too_long"),
    417: ("The Expect header cannot be met.", "expectation_failed"),
    431: ("The request's headers are too large.", "headers_too_large"),
    500: ("The server failed to answer this request; it has been logged.", "server_error"),
    501: ("This transfer coding is not supported.", "not_implemented"),
}


class JsonErrorWorker(SyncWorker):
    """gunicorn's sync worker whose own error answers are JSON (see the module docstring)."""

    def handle_error(self, req: Any, client: socket.socket, addr: Any, exc: BaseException) -> None:
        super().handle_error(req, _JsonErrorPage(client), addr, exc)


class _JsonErrorPage:
    """The client socket as gunicorn's ``write_error`` uses it: its HTML page goes out as JSON."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock

    def gettimeout(self) -> float | None:
        return self.sock.gettimeout()

    def setblocking(self, flag: bool) -> None:
        self.sock.setblocking(flag)

    def sendall(self, data: bytes) -> None:
        status_line = data.split(b"\r\n", 1)[0].decode("latin-1")  # "HTTP/1.1 400 Bad Request"
        parts = status_line.split(" ", 2)
        status = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 500
        reason = parts[2] if len(parts) > 2 else "Error"
        detail, code = _DETAILS.get(status, (f"{reason}.", "error"))
        body = json.dumps({"detail": detail, "code": code, "errors": {}}).encode()
        head = (
            f"HTTP/1.1 {status} {reason}\r\nConnection: close\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        )
        self.sock.sendall(head.encode("latin-1") + body)
