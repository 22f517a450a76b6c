"""What a read can fail with, each with the status and code the API answers (``DomainError``);
the writes raise the same ``SessionNotFound``."""

from __future__ import annotations

from annoris.errors import DomainError

ReadError = DomainError  # what any read can raise: the three below, each with its status


class SessionNotFound(DomainError):
    """No layer that answered has the session (or it was deleted from the repository)."""

    status_code, code = 404, "not_found"


class SessionUnavailable(DomainError):
    """Neither the database nor the source could answer, and the cache did not have it (an outage)."""

    status_code, code = 503, "unavailable"


class SessionUnreadable(DomainError):
    """Its data cannot be served (a NUL byte the database refuses, a date past the calendar's edge,
    a ciphertext no key opens): never an outage, no breaker opens, only this read fails."""

    status_code, code = 422, "unreadable"
