"""What a session write can be refused for; each refusal carries the status the API answers."""

from __future__ import annotations

from annoris.errors import DomainError


class WriteError(DomainError):
    """Base class: ``code`` is the machine-readable reason, the message says it to a person."""

    status_code = 422
    code = "write_error"


class InvalidDocument(WriteError):
    """The document or a field cannot be written (bad YAML, too large, a bad path...): 422."""

    status_code = 422
    code = "invalid_document"


class SecretFound(WriteError):
    """The text holds something that looks like a credential: 422, nothing sent anywhere."""

    status_code = 422
    code = "secret_detected"


class PathExists(WriteError):
    """A create whose path is taken (in the source, the database or the outbox): 409."""

    status_code = 409
    code = "path_exists"


class PreconditionRequired(WriteError):
    """An update or delete without ``If-Match``: 428."""

    status_code = 428
    code = "precondition_required"


class PreconditionFailed(WriteError):
    """The file is no longer at the SHA the writer knew: 412."""

    status_code = 412
    code = "precondition_failed"


class SourceRefused(WriteError):
    """The source answered with an error that retrying will not fix (credentials, no branch): 502."""

    status_code = 502
    code = "source_refused"


class IdempotencyMismatch(WriteError):
    """An ``Idempotency-Key`` reused with a different request: 422."""

    status_code = 422
    code = "idempotency_key_reused"


class IdempotencyInProgress(WriteError):
    """The first request with this ``Idempotency-Key`` is still running: 409."""

    status_code = 409
    code = "idempotency_key_in_progress"
    retry_after = 1
