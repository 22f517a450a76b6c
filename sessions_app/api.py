"""The sessions read API (issue #7): list from the database, one session through the read path.

``SessionReadViewSet`` is registered by ``sync_app/api/urls.py`` (through
``sync_app.api.sessions.SessionViewSet``, where the write mixin joins it) as
``/api/sessions/`` and ``/api/sessions/{id}/``; ``project_sessions`` serves
``/api/projects/{id}/sessions/``.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any

from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import filters, renderers, serializers, viewsets
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response

from annoris.api.errors import ApiError, unavailable
from annoris.api.pagination import CursorPagination
from annoris.api.renderers import JSONRenderer
from annoris.api.schema import error_responses, header
from annoris.crypto import DecryptionError
from projects_app.api import PROJECT_PARAMETER, project_or_404
from sessions_app.models import Session, SessionState
from sessions_app.readpath import ReadError, SessionNotFound, SessionUnavailable
from sessions_app.selectors import filter_sessions
from sessions_app.serializers import SessionDetailSerializer, SessionListSerializer, detail_representation

UUID_PATTERN = r"[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}"


class MarkdownRenderer(renderers.BaseRenderer):
    """``text/markdown``: the session document itself (``?format=md``); errors stay JSON."""

    media_type = "text/markdown"
    format = "md"
    charset = "utf-8"

    def render(
        self, data: Any, accepted_media_type: str | None = None, renderer_context: Any = None
    ) -> bytes:
        if isinstance(data, str):
            return data.encode("utf-8")
        response = (renderer_context or {}).get("response")
        if response is not None:
            response["Content-Type"] = "application/json"
        return JSONRenderer().render(data)


class DateOrDateTimeField(serializers.DateTimeField):
    """An ISO 8601 date-time, or a date (midnight UTC)."""

    def to_internal_value(self, value: Any) -> Any:
        if isinstance(value, str) and len(value) == 10:
            try:
                day = date.fromisoformat(value)
            except ValueError:
                pass
            else:
                return datetime.combine(day, time.min, tzinfo=UTC)
        return super().to_internal_value(value)


class SessionFilters(serializers.Serializer):
    """Query parameters of the session list (validated: a bad value is a 400 naming it)."""

    project = serializers.CharField(required=False, max_length=255, help_text="Project id or name.")
    state = serializers.ChoiceField(choices=SessionState.choices, required=False)
    status = serializers.CharField(required=False, max_length=100, help_text="Exact status, any case.")
    priority = serializers.CharField(required=False, max_length=50, help_text="Exact priority, any case.")
    created_after = DateOrDateTimeField(required=False, help_text="ISO 8601 date or date-time; inclusive.")
    created_before = DateOrDateTimeField(required=False, help_text="ISO 8601 date or date-time; exclusive.")
    q = serializers.CharField(required=False, max_length=200, help_text="Words in the title or path.")
    deleted = serializers.BooleanField(
        required=False, default=False, help_text="Include sessions whose file left the repository."
    )


class SessionCursorPagination(CursorPagination):
    """Newest first; a cursor stays valid and skips nothing while sessions are added."""

    ordering = ("-created_at", "id")


class SessionOrdering(filters.OrderingFilter):
    ordering_fields = ["created_at", "title", "last_synced", "priority", "size"]

    def get_default_ordering(self, view: Any) -> tuple[str, ...]:
        return SessionCursorPagination.ordering

    def get_ordering(self, request: Request, queryset: QuerySet, view: Any) -> list[str]:
        ordering = list(super().get_ordering(request, queryset, view))
        return ordering if "id" in ordering or "-id" in ordering else [*ordering, "id"]


LIST_PARAMETERS = [
    SessionFilters,
    OpenApiParameter(
        "ordering", str, description="created_at, title, last_synced, priority or size; '-' for descending."
    ),
    OpenApiParameter("page_size", int, description="Sessions per page (1-200, default 50)."),
]
DETAIL_HEADERS = [
    header("ETag", "The document's git blob SHA, quoted.", [200, 304]),
    header(
        "X-Annoris-Source", "The layer that served the session: cache, database, github or local.", [200, 304]
    ),
    header("Server-Timing", "The read path's time, e.g. `cache;dur=0.41`.", [200, 304]),
]


class SessionReadViewSet(viewsets.GenericViewSet):
    """Sessions: the list comes from the database, one session from the read path (cache first)."""

    serializer_class = SessionListSerializer
    pagination_class = SessionCursorPagination
    filter_backends = [SessionOrdering]
    lookup_field = "id"
    lookup_value_regex = UUID_PATTERN
    renderer_classes = [JSONRenderer, renderers.BrowsableAPIRenderer, MarkdownRenderer]

    def get_queryset(self) -> QuerySet[Session]:
        return Session.objects.select_related("project").defer("content")

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
    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        try:
            result = Session.objects.fetch(kwargs["id"])
        except SessionNotFound:
            raise NotFound("No such session.") from None
        except SessionUnavailable as exc:
            return unavailable(str(exc))
        except ReadError as exc:  # SessionUnreadable: this one session's data cannot be served (422)
            raise ApiError(exc.status_code, str(exc), code="unreadable") from None
        session = result.session
        headers = {
            "ETag": f'"{session.github_sha}"',
            "X-Annoris-Source": result.layer,
            "Server-Timing": f"{result.layer};dur={result.elapsed_ms:.2f}",
        }
        if _etag_matches(request.META.get("HTTP_IF_NONE_MATCH"), session.github_sha):
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


def _etag_matches(header_value: str | None, sha: str) -> bool:
    """RFC 9110 If-None-Match: ``*`` or any listed (weak or strong) tag equal to ``sha``."""
    if not header_value:
        return False
    for tag in header_value.split(","):
        tag = tag.strip()
        if tag == "*":
            return True
        if tag.startswith("W/"):
            tag = tag[2:]
        if tag.strip('"') == sha:
            return True
    return False
