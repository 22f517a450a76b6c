"""What a session write can be refused for. The API maps each to its status code."""

from __future__ import annotations


class WriteError(Exception):
    """Base class: ``code`` is the machine-readable reason, the message says it to a person."""

    code = "write_error"

    def __init__(self, message: str, *, errors: dict[str, list[str]] | None = None) -> None:
        super().__init__(message)
        self.errors = errors or {}


class InvalidDocument(WriteError):
    """The document or a field cannot be written (bad YAML, too large, a bad path...): 422."""

    code = "invalid_document"


class SecretFound(WriteError):
    """The text holds something that looks like a credential: 422, nothing sent anywhere."""

    code = "secret_detected"


class SessionMissing(WriteError):
    """No live session with that id: 404."""

    code = "not_found"


class PathExists(WriteError):
    """A create whose path is taken (in the source, the database or the outbox): 409."""

    code = "path_exists"


class PreconditionRequired(WriteError):
    """An update or delete without ``If-Match``: 428."""

    code = "precondition_required"


class PreconditionFailed(WriteError):
    """The file is no longer at the SHA the writer knew: 412."""

    code = "precondition_failed"


class SourceRefused(WriteError):
    """The source answered with an error that retrying will not fix (credentials, no branch): 502."""

    code = "source_refused"


class IdempotencyMismatch(WriteError):
    """An ``Idempotency-Key`` reused with a different request: 422."""

    code = "idempotency_key_reused"


class IdempotencyInProgress(WriteError):
    """The first request with this ``Idempotency-Key`` is still running: 409."""

    code = "idempotency_key_in_progress"
