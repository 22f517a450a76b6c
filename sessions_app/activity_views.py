"""``GET /api/activity/``: recent activity over REST, the MCP tool's twin (issue #15)."""

from __future__ import annotations

from datetime import UTC, datetime, time
from typing import Any

from django.urls import reverse
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from annoris.api.schema import ErrorSerializer
from projects_app.selectors import find_project
from sessions_app.activity import MAX_ACTIVITY, recent_activity
from sessions_app.assistant_views import AssistantAPIView
from sessions_app.models import Session


class ActivityQuery(serializers.Serializer):
    project = serializers.CharField(
        required=False, max_length=255, help_text="A project's id, name, slug or folder name (any case)."
    )
    since = serializers.DateField(
        required=False, help_text="Only sessions on or after this day (YYYY-MM-DD)."
    )
    limit = serializers.IntegerField(required=False, min_value=1, max_value=MAX_ACTIVITY, default=10)


_SESSIONS = inline_serializer(
    many=True,
    name="ActivitySession",
    fields={
        "id": serializers.UUIDField(),
        "title": serializers.CharField(),
        "project": serializers.CharField(allow_null=True),
        "date": serializers.DateField(),
        "state": serializers.CharField(),
        "next": serializers.CharField(),
        "url": serializers.URLField(),
    },
)
_STEPS = inline_serializer(
    many=True,
    name="ActivityStep",
    fields={
        "text": serializers.CharField(),
        "session_id": serializers.UUIDField(),
        "url": serializers.URLField(),
    },
)


class ActivityView(AssistantAPIView):
    """The newest sessions' titles, dates, states and the next steps they leave open; no document text."""

    @extend_schema(
        operation_id="activity",
        summary="Recent activity",
        parameters=[ActivityQuery],
        responses={
            200: inline_serializer(
                name="Activity",
                fields={
                    "sessions": _SESSIONS,
                    "open_steps": _STEPS,
                    "more_sessions": serializers.IntegerField(),
                },
            ),
            400: OpenApiResponse(ErrorSerializer, description="A query parameter is invalid."),
            404: OpenApiResponse(ErrorSerializer, description="No such project (with a did-you-mean)."),
            503: OpenApiResponse(ErrorSerializer, description="The database is unavailable."),
        },
    )
    def get(self, request: Request) -> Response:
        params = self.query(ActivityQuery)
        project = find_project(params["project"]) if params.get("project") else None  # ProjectNotFound: 404
        since = datetime.combine(params["since"], time(), tzinfo=UTC) if params.get("since") else None
        found = recent_activity(project=project, since=since, limit=params["limit"])
        return Response(
            {
                "sessions": [self._session(s) for s in found.sessions],
                "open_steps": [
                    {"text": step.text, "session_id": str(step.session.id), "url": self._url(step.session)}
                    for step in found.open_steps
                ],
                "more_sessions": found.more_sessions,
            }
        )

    def _session(self, session: Session) -> dict[str, Any]:
        return {
            "id": str(session.id),
            "title": session.title,
            "project": session.project.name if session.project else None,
            "date": f"{session.created_at:%Y-%m-%d}",
            "state": session.state,
            "next": session.next_step,
            "url": self._url(session),
        }

    def _url(self, session: Session) -> str:
        return self.link_base() + reverse("session-detail", args=[session.id])
