"""One JSON error shape for every 4xx/5xx under /api/ (issue #7).

    {"detail": "<one sentence>", "code": "<machine code>", "errors": {"<field>": ["..."]}}

``errors`` is present (maybe empty) on every error; per-field messages go there, with
``non_field_errors`` for the body as a whole. Views raise DRF exceptions or
:class:`ApiError`; :func:`exception_handler` (DRF's EXCEPTION_HANDLER) renders them, and
the Django-level handlers here answer the few cases DRF never sees (unknown URL, a crash
outside a view) in the same shape.
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.db import DatabaseError
from django.http import Http404, HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import set_rollback

from annoris.errors import DomainError

logger = logging.getLogger("annoris.api")

API_PREFIX = "/api/"


def ApiError(  # reads as the error it raises
    status_code: int, detail: str, *, code: str = "error", errors: dict[str, list[str]] | None = None
) -> DomainError:
    """An error with any status, code and optional per-field ``errors``, for a view to raise:
    ``raise ApiError(409, "A session exists at that path.", code="path_exists")``."""
    return DomainError(detail, status_code=status_code, code=code, errors=errors)


def error_body(detail: str, code: str, errors: dict[str, list[str]] | None = None) -> dict[str, Any]:
    return {"detail": str(detail), "code": str(code), "errors": errors or {}}


def api_error(
    status_code: int,
    detail: str,
    *,
    code: str = "error",
    errors: dict[str, list[str]] | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    """A DRF Response in the error shape (for code that answers instead of raising)."""
    return Response(error_body(detail, code, errors), status=status_code, headers=headers)


def unavailable(detail: str = "The database is unavailable; try again shortly.") -> Response:
    """503 with ``Retry-After`` (an outage, never bad input)."""
    return api_error(503, detail, code="unavailable", headers=retry_after(503))


def retry_after(status_code: int, seconds: float | None = None) -> dict[str, str]:
    """The ``Retry-After`` header an answer carries, computed here only: the given seconds, or
    for a 503 (an outage) the breaker's cool-down, when a dead layer is tried again."""
    if seconds is None and status_code == 503:
        seconds = settings.ANNORIS_BREAKER_COOLDOWN
    return {} if seconds is None else {"Retry-After": str(max(1, round(seconds)))}


def domain_error(exc: DomainError) -> Response:
    """A domain error (it carries its status and code) in the error shape."""
    headers = retry_after(exc.status_code, exc.retry_after)
    return api_error(exc.status_code, str(exc), code=exc.code, errors=exc.errors, headers=headers)


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response:
    """DRF's EXCEPTION_HANDLER: every exception becomes the error shape, never an HTML page."""
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    if isinstance(exc, exceptions.APIException):
        response = _from_api_exception(exc)
    elif isinstance(exc, DomainError):
        response = domain_error(exc)
    elif isinstance(exc, DatabaseError):
        logger.warning("API request failed on the database: %s", exc)
        response = unavailable()
    else:
        logger.error("Unhandled error in an API view", exc_info=exc)
        response = api_error(500, "Internal error; it has been logged.", code="server_error")
    set_rollback()
    return response


def _from_api_exception(exc: exceptions.APIException) -> Response:
    headers: dict[str, str] = {}
    if getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = exc.auth_header  # type: ignore[attr-defined]
    if getattr(exc, "wait", None) is not None:
        headers["Retry-After"] = str(int(exc.wait))  # type: ignore[attr-defined]
    if "Retry-After" not in headers:
        headers.update(retry_after(exc.status_code))
    if isinstance(exc.detail, dict | list):
        body = error_body("Invalid input.", "invalid", _fields(exc.detail))
    else:
        body = error_body(str(exc.detail), _code(exc.detail))
    return Response(body, status=exc.status_code, headers=headers)


def _code(detail: Any) -> str:
    return str(getattr(detail, "code", None) or "error")


def _fields(detail: dict | list) -> dict[str, list[str]]:
    """Flatten DRF's nested detail into ``{"field": [...], "nested.field": [...]}``."""
    if isinstance(detail, list):
        detail = {"non_field_errors": detail}
    flat: dict[str, list[str]] = {}
    for name, value in detail.items():
        _flatten(str(name), value, flat)
    return flat


def _flatten(prefix: str, value: Any, flat: dict[str, list[str]]) -> None:
    if isinstance(value, dict):
        for key, inner in value.items():
            _flatten(f"{prefix}.{key}", inner, flat)
    elif isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
        for index, inner in enumerate(value):
            _flatten(f"{prefix}.{index}", inner, flat)
    elif isinstance(value, list):
        flat.setdefault(prefix, []).extend(str(v) for v in value)
    else:
        flat.setdefault(prefix, []).append(str(value))


# -- Django-level handlers (no DRF view involved) -------------------------------------


def json_error(
    status_code: int, detail: str, code: str, *, errors: dict[str, list[str]] | None = None
) -> JsonResponse:
    """The error shape as a plain Django response (middleware and URL handlers)."""
    return JsonResponse(error_body(detail, code, errors), status=status_code)


@csrf_exempt  # it changes nothing: a token's POST to an unknown URL is a 404, not a CSRF 403 (#20)
def not_found(request: HttpRequest, *args: Any, **kwargs: Any) -> JsonResponse:
    """Any unknown URL under /api/: JSON 404, with a hint when only the trailing slash is missing."""
    detail = "Not found."
    if not request.path.endswith("/"):
        detail += f" API paths end with a slash: try {request.path}/"
    return json_error(status.HTTP_404_NOT_FOUND, detail, "not_found")


def is_api(request: HttpRequest) -> bool:
    return request.path.startswith(API_PREFIX)
