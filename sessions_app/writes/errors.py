"""What a session write can be refused for: one error class, each refusal a status and a code.

``WriteError`` is a domain error (``annoris.errors.DomainError``), so the API's one handler
answers every refusal with its status and code, and the MCP tools alike. The refusals are
named constructors (``raise PathExists("...")``): the kind is data, not a class of its own.
``InvalidDocument`` stays a class: callers catch it.
"""

from __future__ import annotations

from annoris.errors import DomainError


class WriteError(DomainError):
    """A refused write: ``status_code`` and ``code`` say why, the message says it to a person."""

    status_code = 422
    code = "write_error"


class InvalidDocument(WriteError):
    """The document or a field cannot be written (bad YAML, too large, a bad path...): 422."""

    def __init__(self, message: str, *, errors: dict[str, list[str]] | None = None) -> None:
        super().__init__(message, code="invalid_document", errors=errors)


def SecretFound(message: str, *, errors: dict[str, list[str]] | None = None) -> WriteError:
    """The text holds something that looks like a credential: 422, nothing sent anywhere."""
    return WriteError(message, code="secret_detected", errors=errors)


def PathExists(message: str, *, errors: dict[str, list[str]] | None = None) -> WriteError:
    """A create whose path is taken (in the source, the database or the outbox): 409."""
    return WriteError(message, status_code=409, code="path_exists", errors=errors)


def PreconditionRequired(message: str) -> WriteError:
    """An update or delete without ``If-Match``: 428."""
    return WriteError(message, status_code=428, code="precondition_required")


def PreconditionFailed(message: str) -> WriteError:
    """The file is no longer at the SHA the writer knew: 412."""
    return WriteError(message, status_code=412, code="precondition_failed")


def SourceRefused(message: str) -> WriteError:
    """The source answered with an error that retrying will not fix (credentials, no branch): 502."""
    return WriteError(message, status_code=502, code="source_refused")


def IdempotencyMismatch(message: str, *, errors: dict[str, list[str]] | None = None) -> WriteError:
    """An ``Idempotency-Key`` reused with a different request: 422."""
    return WriteError(message, code="idempotency_key_reused", errors=errors)


def IdempotencyInProgress(message: str) -> WriteError:
    """The first request with this ``Idempotency-Key`` is still running: 409, retry in a second."""
    return WriteError(message, status_code=409, code="idempotency_key_in_progress", retry_after=1)
