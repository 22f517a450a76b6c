"""The sessions API: ``/api/sessions/`` and ``/api/projects/{id}/sessions/``.

One viewset. The list comes from the database, one session through the read path (cache
first); writes validate the body and their ``perform_*`` hooks call the services in
``sessions_app.writes`` (source first, then database and cache). Refusals carry their own
status and the API's one exception handler (``annoris.api.errors``) answers them.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.db.models import QuerySet
from django.http import HttpResponse, HttpResponseBase
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import renderers, viewsets
from rest_framework.exceptions import NotFound
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response

from annoris.api.errors import ApiError
from annoris.api.renderers import JSONRenderer
from annoris.api.schema import error_responses
from annoris.crypto import DecryptionError
from annoris.http import UUID_PATTERN, etag_matches
from projects_app.api import PROJECT_PARAMETER, project_or_404
from sessions_app import writes
from sessions_app.api.filters import SessionCursorPagination, SessionFilters, SessionOrdering
from sessions_app.api.pending_reads import pending_or
from sessions_app.api.renderers import MarkdownRenderer
from sessions_app.api.schema import (
    COMMON_ERRORS,
    DETAIL_HEADERS,
    ETAG,
    IDEMPOTENCY_KEY,
    IF_MATCH,
    LIST_PARAMETERS,
    QUEUED,
    REPLAYED,
    SECRET_EXAMPLE,
    UPDATE_SCHEMA,
    UUID,
    error,
    update_errors,
)
from sessions_app.api.write_serializers import SessionWriteResultSerializer, SessionWriteSerializer
from sessions_app.api.writes import HasWriteScope, answer, idempotent, who
from sessions_app.models import Session
from sessions_app.readpath import SessionNotFound
from sessions_app.readpath.read import cached_answer
from sessions_app.readpath.rendered import Answer
from sessions_app.selectors import filter_sessions
from sessions_app.serializers import (
    SessionDetailSerializer,
    SessionListSerializer,
    detail_path,
    detail_representation,
)


class SessionViewSet(viewsets.GenericViewSet):
    """Session documents: list, read, create, replace, change and delete them.

    Reads come from the cache, the database or GitHub (the `X-Annoris-Source` header says
    which); writes go to GitHub first.
    """

    serializer_class = SessionListSerializer
    pagination_class = SessionCursorPagination
    filter_backends = [SessionOrdering]
    lookup_field = "id"
    lookup_value_regex = UUID_PATTERN
    renderer_classes = [JSONRenderer, renderers.BrowsableAPIRenderer, MarkdownRenderer]

    def get_permissions(self) -> list[BasePermission]:
        return [*super().get_permissions(), HasWriteScope()]

    def get_serializer_class(self) -> type:
        """The write shape for writes: the browsable API's form and raw-data tab show its fields."""
        if getattr(self, "action", None) in ("create", "update", "partial_update"):
            return SessionWriteSerializer
        return super().get_serializer_class()

    def get_queryset(self) -> QuerySet[Session]:
        return Session.objects.select_related("project").defer("content")

    def finalize_response(self, request: Request, response: Response, *args: Any, **kwargs: Any) -> Response:
        """A read the read path answered 404 or 503 may be of a create still in the outbox: that
        is served pending (#20 finding 11); every other answer is left as it is."""
        if getattr(self, "action", None) == "retrieve" and response.status_code in (404, 503):
            if hasattr(request, "accepted_renderer"):
                response = pending_or(request, self.kwargs["id"], response)
        return super().finalize_response(request, response, *args, **kwargs)

    def get_renderers(self) -> list[renderers.BaseRenderer]:
        if getattr(self, "action", None) == "retrieve":
            return [r() for r in self.renderer_classes]
        return [r() for r in self.renderer_classes if r is not MarkdownRenderer]

    @extend_schema(
        operation_id="sessions_list",
        summary="List sessions",
        parameters=LIST_PARAMETERS,
        responses={200: SessionListSerializer(many=True), **error_responses(400, 401, 403, 429, 503)},
    )
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self._list(request, self.get_queryset())

    @extend_schema(
        operation_id="projects_sessions_list",
        summary="List a project's sessions",
        parameters=[
            OpenApiParameter(
                "project_id", str, OpenApiParameter.PATH, description=PROJECT_PARAMETER.description
            ),
            *LIST_PARAMETERS,
        ],
        responses={200: SessionListSerializer(many=True), **error_responses(400, 401, 403, 404, 429, 503)},
    )
    def project_sessions(self, request: Request, project_id: str) -> Response:
        """``/api/projects/{project_id}/sessions/``: the list, for one project (id, name or slug)."""
        project = project_or_404(project_id)
        return self._list(request, self.get_queryset().filter(project_id=project.pk))

    def _list(self, request: Request, queryset: QuerySet[Session]) -> Response:
        filters_ = SessionFilters(data=request.query_params)
        filters_.is_valid(raise_exception=True)
        queryset = filter_sessions(self.filter_queryset(queryset), filters_.validated_data)
        page = self.paginate_queryset(queryset)
        data = SessionListSerializer(page, many=True, context=self.get_serializer_context()).data
        return self.get_paginated_response(data)

    @extend_schema(
        operation_id="sessions_retrieve",
        summary="Read one session",
        description=(
            "Served by the read path: cache, then database, then GitHub. `?format=md` or "
            "`Accept: text/markdown` answers the document itself. Send `If-None-Match` with the "
            "ETag to get 304 when it has not changed."
        ),
        parameters=[
            OpenApiParameter(
                "If-None-Match", str, OpenApiParameter.HEADER, description="An ETag from before."
            ),
            OpenApiParameter("format", str, enum=["json", "md"], description="`md`: the markdown document."),
            *DETAIL_HEADERS,
        ],
        responses={
            (200, "application/json"): SessionDetailSerializer,
            (200, "text/markdown"): OpenApiTypes.STR,
            304: OpenApiResponse(None, description="Not modified (the ETag matched)."),
            **error_responses(401, 403, 404, 406, 422, 429, 503),
        },
    )
    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if request.accepted_media_type == JSONRenderer.media_type and (hit := cached_answer(kwargs["id"])):
            return self._cached(request, *hit)
        try:  # SessionUnavailable (503) and SessionUnreadable (422) answer as they are
            result = Session.objects.fetch(kwargs["id"])
        except SessionNotFound:
            raise NotFound("No such session.") from None
        session = result.session
        headers = _read_headers(session.github_sha, result.layer, result.elapsed_ms)
        if etag_matches(request.META.get("HTTP_IF_NONE_MATCH"), session.github_sha):
            return Response(status=304, headers=headers)
        try:
            if request.accepted_renderer.format == "md":
                return Response(session.text, headers=headers)
            data = detail_representation(session, request)
        except DecryptionError:
            raise ApiError(  # this session's data, not an outage: never a 500
                422, "The session cannot be decrypted with the configured keys.", code="undecryptable"
            ) from None
        return Response(data, headers=headers)

    def _cached(self, request: Request, answer: Answer, elapsed_ms: float) -> HttpResponseBase:
        """The cached JSON answer (``readpath.rendered``): the same bytes and headers as above."""
        headers = _read_headers(answer.sha, "cache", elapsed_ms)
        if etag_matches(request.META.get("HTTP_IF_NONE_MATCH"), answer.sha):
            return Response(status=304, headers=headers)
        url = request.build_absolute_uri(detail_path(self.kwargs["id"]))
        return HttpResponse(answer.with_url(url), content_type=JSONRenderer.media_type, headers=headers)

    # -- writes: validate, then the perform_* hooks call the services ---------------------------

    @extend_schema(
        operation_id="sessions_create",
        summary="Create a session document",
        description="Commits the document to GitHub (or writes it to the local folder) first, then "
        "stores it. Given fields are written into the document's front matter.",
        request=SessionWriteSerializer,
        parameters=[IDEMPOTENCY_KEY, ETAG, REPLAYED],
        responses={
            201: OpenApiResponse(SessionWriteResultSerializer, description="Committed and stored."),
            202: QUEUED,
            409: error("The path exists (in GitHub, the database or the outbox); nothing was overwritten."),
            **COMMON_ERRORS,
        },
        examples=[SECRET_EXAMPLE],
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        body = self._valid(partial=False)
        parts = ("POST", None, None, body.validated_data)
        return idempotent(request, parts, lambda: answer(self.perform_create(body), 201))

    def perform_create(self, serializer: SessionWriteSerializer) -> writes.WriteOutcome:
        data = serializer.validated_data
        return writes.session_create(
            content=data["content"], fields=serializer.fields_to_write(), path=data.get("path"),
            requested_by=who(self.request),
        )  # fmt: skip

    @extend_schema(
        operation_id="sessions_update",
        summary="Replace a session document",
        description="Replaces the whole document (given fields go into its front matter). Needs If-Match.",
        **UPDATE_SCHEMA,
    )
    def update(self, request: Request, *args: Any, partial: bool = False, **kwargs: Any) -> Response:
        body = self._valid(partial=partial)
        parts = (
            "PATCH" if partial else "PUT",
            str(self._session_id()),
            self._if_match(),
            body.validated_data,
        )
        return idempotent(request, parts, lambda: answer(self.perform_update(body), 200))

    @extend_schema(
        operation_id="sessions_partial_update",
        summary="Change fields or the text of a session document, or make one small edit",
        description="Sets the given fields in the front matter (and replaces the text when `content` is "
        "given). Or, with a body of `edit` alone, makes one small edit without resending the document: "
        '`{"edit": {"append": "...", "section": "Decided"}}`, `{"edit": {"section": "Plan", '
        '"replace_with": "..."}}` or `{"edit": {"check_step": "Deploy the worker"}}`; the front matter '
        "and every line not edited stay byte for byte, and a section or step that is not there is a 422. "
        "Needs If-Match.",
        **UPDATE_SCHEMA,
    )
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self.update(request, *args, partial=True, **kwargs)

    def perform_update(self, serializer: SessionWriteSerializer) -> writes.WriteOutcome:
        data = serializer.validated_data
        if "edit" in data:  # PATCH {"edit": {...}}: one small edit through the same write path
            return writes.session_edit(
                session_id=self._session_id(), if_match=self._if_match(), edit=writes.Edit(**data["edit"]),
                requested_by=who(self.request),
            )  # fmt: skip
        return writes.session_update(
            session_id=self._session_id(), if_match=self._if_match(), content=data.get("content"),
            fields=serializer.fields_to_write(), path=data.get("path"), requested_by=who(self.request),
        )  # fmt: skip

    @extend_schema(
        operation_id="sessions_destroy",
        summary="Delete a session document",
        description="Deletes the file at the source (one commit on GitHub) and soft-deletes the session.",
        parameters=[UUID, IF_MATCH, IDEMPOTENCY_KEY, REPLAYED],
        request=None,
        responses={
            204: OpenApiResponse(description="Deleted at the source; the session is soft-deleted."),
            202: QUEUED,
            **{code: r for code, r in update_errors().items() if code not in (400, 422)},
            422: error("The Idempotency-Key was reused with another request."),
        },
    )
    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        session_id = self._session_id()
        parts = ("DELETE", str(session_id), self._if_match(), None)
        return idempotent(request, parts, lambda: answer(self.perform_destroy(session_id), 204))

    def perform_destroy(self, instance: uuid.UUID) -> writes.WriteOutcome:
        return writes.session_delete(
            session_id=instance, if_match=self._if_match(), requested_by=who(self.request)
        )

    def _valid(self, *, partial: bool) -> SessionWriteSerializer:
        """The body, validated: content is required to create or replace, optional to change."""
        body = SessionWriteSerializer(data=self.request.data, partial=partial)
        if partial:
            body.fields["content"].required = False
        body.is_valid(raise_exception=True)
        return body

    def _if_match(self) -> str | None:
        return self.request.headers.get("If-Match")

    def _session_id(self) -> uuid.UUID:
        try:
            return uuid.UUID(str(self.kwargs.get(self.lookup_field)))
        except ValueError:
            raise SessionNotFound("No such session.") from None


def _read_headers(sha: str, layer: str, elapsed_ms: float) -> dict[str, str]:  # ETag, layer, its time
    return {"ETag": f'"{sha}"', "X-Annoris-Source": layer, "Server-Timing": f"{layer};dur={elapsed_ms:.2f}"}
