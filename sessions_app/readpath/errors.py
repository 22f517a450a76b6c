"""What a read can fail with: the sessions layer's one "not found" and one "unavailable".

Each carries the HTTP status and code the API answers it with (``annoris.errors.DomainError``);
the writes raise the same ``SessionNotFound`` for a session they cannot find.
"""

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
    """The session exists but its data cannot be served: a NUL byte the database refuses, a date
    past the calendar's edge, a ciphertext no configured key opens. Never an outage: no breaker
    opens for it, and only this one read fails."""

    status_code, code = 422, "unreadable"
