"""Session writes over HTTP: ``POST /api/sessions/``, ``PUT``/``PATCH``/``DELETE /api/sessions/{id}/``.

``SessionWriteMixin`` goes in front of the sessions viewset. It stays thin: it validates
the body, handles ``Idempotency-Key`` and ``If-Match`` headers and calls the services in
``sync_app.writes``, whose refusals it answers as ``{"detail", "code", "errors"}`` with the
status each one means (404, 409, 412, 422, 428, 502).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db import DatabaseError
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request
from rest_framework.response import Response

from sync_app import writes
from sync_app.api.write_serializers import (
    SessionWriteResultSerializer,
    SessionWriteSerializer,
    WriteErrorSerializer,
)

_STATUS: dict[type[writes.WriteError], int] = {
    writes.InvalidDocument: 422,
    writes.SecretFound: 422,
    writes.IdempotencyMismatch: 422,
    writes.SessionMissing: 404,
    writes.PathExists: 409,
    writes.IdempotencyInProgress: 409,
    writes.PreconditionRequired: 428,
    writes.PreconditionFailed: 412,
    writes.SourceRefused: 502,
}


class HasWriteScope(BasePermission):
    """Unsafe methods need a token with the ``write`` scope (tokens without a scope, and
    browser sessions, are let through: the default permission decides for those)."""

    message = "This token can only read; writing needs a token with the write scope."
    code = "read_only_token"

    def has_permission(self, request: Request, view: Any) -> bool:
        if request.method in SAFE_METHODS:
            return True
        scope = getattr(request.auth, "scope", None)
        return scope is None or scope == "write"


# -- OpenAPI ---------------------------------------------------------------------------------

_IF_MATCH = OpenApiParameter(
    "If-Match",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=True,
    description="The session's `sha` (its ETag) as last read. Stale: 412; missing: 428.",
)
_IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=False,
    description="Any unique string (1-255 ASCII characters). A retry with the same key and body returns "
    "the first answer and writes nothing; the same key with another body is a 422.",
)
_ETAG = OpenApiParameter(
    "ETag",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    response=[200, 201],
    description='The new blob SHA, quoted (`"<sha>"`): the If-Match of the next write.',
)
_REPLAYED = OpenApiParameter(
    "Idempotent-Replayed",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    response=[200, 201, 202, 204],
    description="`true` when this is the stored answer to an earlier request with the same Idempotency-Key.",
)
_UUID = OpenApiParameter("id", OpenApiTypes.UUID, OpenApiParameter.PATH, description="The session id.")


def _error(description: str) -> OpenApiResponse:
    return OpenApiResponse(WriteErrorSerializer, description=description)


_COMMON_ERRORS = {
    400: _error("The body is malformed (per-field errors)."),
    401: _error("No or bad credentials."),
    403: _error("The token cannot write (read scope)."),
    422: _error(
        "The document cannot be written: a secret was found (the line and kind are named, never the "
        "value), the front matter is not YAML, the path is invalid, or the Idempotency-Key was reused "
        "with another body."
    ),
    502: _error("GitHub refused the write for a reason retrying will not fix (credentials, branch)."),
    503: _error("The database is unavailable."),
}
_QUEUED = OpenApiResponse(
    SessionWriteResultSerializer,
    description="GitHub is unreachable, failing or rate limited: the write is stored in the outbox and "
    "will land in order; `outbox` describes the entry and `sha` is what the file will hold.",
)
_SECRET_EXAMPLE = OpenApiExample(
    "Secret found",
    value={
        "detail": "The document holds what looks like a secret (content: line 3: GitHub Token). Remove or "
        "redact it (e.g. replace it with ***) and send it again.",
        "code": "secret_detected",
        "errors": {"content": ["line 3: GitHub Token"]},
    },
    response_only=True,
    status_codes=["422"],
)


def _update_errors() -> dict[int, OpenApiResponse]:
    return {
        404: _error("No live session with this id (or a queued write deletes it)."),
        412: _error("If-Match is stale: the session (or its file at GitHub) changed since."),
        428: _error("If-Match is missing."),
        **_COMMON_ERRORS,
    }


_UPDATE_SCHEMA = {
    "request": SessionWriteSerializer,
    "parameters": [_UUID, _IF_MATCH, _IDEMPOTENCY_KEY, _ETAG, _REPLAYED],
    "responses": {
        200: OpenApiResponse(SessionWriteResultSerializer, description="Committed and stored."),
        202: _QUEUED,
        **_update_errors(),
    },
    "examples": [_SECRET_EXAMPLE],
}


class SessionWriteMixin:
    """create, update, partial_update and destroy for the sessions viewset."""

    request: Request
    kwargs: dict[str, Any]

    def get_permissions(self) -> list[BasePermission]:
        return [*super().get_permissions(), HasWriteScope()]  # type: ignore[misc]

    def get_serializer_class(self) -> type:
        """The write shape for writes: the browsable API's form and raw-data tab show its fields."""
        if getattr(self, "action", None) in ("create", "update", "partial_update"):
            return SessionWriteSerializer
        return super().get_serializer_class()  # type: ignore[misc]

    @extend_schema(
        operation_id="sessions_create",
        summary="Create a session document",
        description="Commits the document to GitHub (or writes it to the local folder) first, then "
        "stores it. Given fields are written into the document's front matter.",
        request=SessionWriteSerializer,
        parameters=[_IDEMPOTENCY_KEY, _ETAG, _REPLAYED],
        responses={
            201: OpenApiResponse(SessionWriteResultSerializer, description="Committed and stored."),
            202: _QUEUED,
            409: _error("The path exists (in GitHub, the database or the outbox); nothing was overwritten."),
            **_COMMON_ERRORS,
        },
        examples=[_SECRET_EXAMPLE],
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        body = _valid(request, partial=False, require_content=True)
        data = body.validated_data

        def run() -> Response:
            outcome = writes.session_create(
                content=data["content"], fields=body.fields_to_write(), path=data.get("path"),
                requested_by=_who(request),
            )  # fmt: skip
            return _answer(outcome, 201)

        return _idempotent(request, ("POST", None, None, data), run)

    @extend_schema(
        operation_id="sessions_update",
        summary="Replace a session document",
        description="Replaces the whole document (given fields go into its front matter). Needs If-Match.",
        **_UPDATE_SCHEMA,
    )
    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self._update(request, partial=False)

    @extend_schema(
        operation_id="sessions_partial_update",
        summary="Change fields or the text of a session document",
        description="Sets the given fields in the front matter (and replaces the text when `content` is "
        "given). Needs If-Match.",
        **_UPDATE_SCHEMA,
    )
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self._update(request, partial=True)

    def _update(self, request: Request, *, partial: bool) -> Response:
        body = _valid(request, partial=partial, require_content=not partial)
        data = body.validated_data
        session_id = self._session_id()
        if_match = request.headers.get("If-Match")

        def run() -> Response:
            outcome = writes.session_update(
                session_id=session_id, if_match=if_match, content=data.get("content"),
                fields=body.fields_to_write(), path=data.get("path"), requested_by=_who(request),
            )  # fmt: skip
            return _answer(outcome, 200)

        method = "PATCH" if partial else "PUT"
        return _idempotent(request, (method, str(session_id), if_match, data), run)

    @extend_schema(
        operation_id="sessions_destroy",
        summary="Delete a session document",
        description="Deletes the file at the source (one commit on GitHub) and soft-deletes the session.",
        parameters=[_UUID, _IF_MATCH, _IDEMPOTENCY_KEY, _REPLAYED],
        request=None,
        responses={
            204: OpenApiResponse(description="Deleted at the source; the session is soft-deleted."),
            202: _QUEUED,
            **{code: r for code, r in _update_errors().items() if code not in (400, 422)},
            422: _error("The Idempotency-Key was reused with another request."),
        },
    )
    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        session_id = self._session_id()
        if_match = request.headers.get("If-Match")

        def run() -> Response:
            outcome = writes.session_delete(
                session_id=session_id, if_match=if_match, requested_by=_who(request)
            )
            return _answer(outcome, 204)

        return _idempotent(request, ("DELETE", str(session_id), if_match, None), run)

    def _session_id(self) -> uuid.UUID:
        """The id in the URL, under whatever name the viewset's lookup uses (``pk`` by default)."""
        name = getattr(self, "lookup_url_kwarg", None) or getattr(self, "lookup_field", None) or "pk"
        try:
            return uuid.UUID(str(self.kwargs.get(name)))
        except ValueError:
            raise writes.SessionMissing("No such session.") from None

    def handle_exception(self, exc: Exception) -> Response:
        if isinstance(exc, writes.WriteError):
            return _refusal(exc)
        if isinstance(exc, DatabaseError) and self.request.method not in SAFE_METHODS:
            retry_after = str(max(1, round(settings.ANNORIS_BREAKER_COOLDOWN)))
            body = {
                "detail": "The database is unavailable; try again shortly.",
                "code": "unavailable",
                "errors": {},
            }
            return Response(body, status=503, headers={"Retry-After": retry_after})
        return super().handle_exception(exc)  # type: ignore[misc]


# -- helpers -----------------------------------------------------------------------------------


def _valid(request: Request, *, partial: bool, require_content: bool) -> SessionWriteSerializer:
    body = SessionWriteSerializer(data=request.data, partial=partial)
    if not require_content:
        body.fields["content"].required = False
    body.is_valid(raise_exception=True)
    return body


def _who(request: Request) -> str:
    user = getattr(request, "user", None)
    return user.get_username() if user is not None and user.is_authenticated else ""


def _answer(outcome: writes.WriteOutcome, success: int) -> Response:
    # A plain dict, not the serializer's ReturnDict: the browsable API would otherwise redraw its
    # form from this answer's fields (id, sha, outbox...) instead of the write fields.
    if outcome.queued is not None:
        return Response(dict(SessionWriteResultSerializer(outcome).data), status=202)
    headers = {"ETag": f'"{outcome.sha}"'} if outcome.sha else {}
    data = None if success == 204 else dict(SessionWriteResultSerializer(outcome).data)
    return Response(data, status=success, headers=headers)


def _idempotent(request: Request, parts: tuple[Any, ...], run: Callable[[], Response]) -> Response:
    key = request.headers.get("Idempotency-Key")
    if key is None:
        return run()
    # Per token (a token's requests have no user row); per user for a browser session.
    token_id = getattr(request.auth, "token_id", None)
    owner = f"token:{token_id}" if token_id is not None else f"user:{request.user.pk}"
    claim = writes.idempotency_claim(owner=owner, key=key, fingerprint=writes.fingerprint(*parts))
    if isinstance(claim, writes.StoredAnswer):
        headers = {**claim.headers, "Idempotent-Replayed": "true"}
        return Response(claim.body, status=claim.status, headers=headers)
    try:
        response = run()
    except BaseException:
        writes.idempotency_release(claim)
        raise
    kept = {name: response[name] for name in ("ETag",) if response.has_header(name)}
    writes.idempotency_store(claim, writes.StoredAnswer(response.status_code, response.data, kept))
    return response


def _refusal(exc: writes.WriteError) -> Response:
    status = next((code for kind, code in _STATUS.items() if isinstance(exc, kind)), 422)
    body: dict[str, Any] = {"detail": str(exc), "code": exc.code, "errors": exc.errors or {}}
    headers = {"Retry-After": "1"} if isinstance(exc, writes.IdempotencyInProgress) else {}
    return Response(body, status=status, headers=headers)
