"""Errors shared by settings and the command line."""

from __future__ import annotations

from django.core.exceptions import ImproperlyConfigured


class ConfigurationError(ImproperlyConfigured):
    """A missing or malformed environment variable; manage.py prints it as one line."""


class DomainError(Exception):
    """An error a client can act on, carrying the HTTP status and machine code it is answered with.

    The API's one exception handler (``annoris.api.errors``) answers every subclass in the error
    shape, and the MCP tools turn the same errors into tool errors: a layer names its own "not
    found" and "unavailable" once, and no view keeps a status map of its own.
    """

    status_code = 400
    code = "error"
    retry_after: int | None = None  # seconds; a 503 without one gets the breaker's cool-down

    def __init__(self, message: str = "", *, errors: dict[str, list[str]] | None = None) -> None:
        super().__init__(message)
        self.errors = errors or {}
