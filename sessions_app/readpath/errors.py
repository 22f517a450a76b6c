"""What a read can fail with. Each error carries the HTTP status an API answers it with."""

from __future__ import annotations


class ReadError(Exception):
    """Base of the read path's errors; ``status_code`` is what the API answers."""

    status_code = 500


class SessionNotFound(ReadError):
    """No layer that answered has the session (or it was deleted from the repository)."""

    status_code = 404


class SessionUnavailable(ReadError):
    """Neither the database nor the source could answer, and the cache did not have it (an outage)."""

    status_code = 503


class SessionUnreadable(ReadError):
    """The session exists but its data cannot be served: a NUL byte the database refuses, a date
    past the calendar's edge, a ciphertext no configured key opens. Never an outage: no breaker
    opens for it, and only this one read fails."""

    status_code = 422
