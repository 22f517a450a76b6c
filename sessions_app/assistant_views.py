"""REST views of the assistant interface (issue #8): context, next steps and search.

Thin: each validates its query parameters with a serializer and calls a service
(``sessions_app.context``, ``sessions_app.search``). Errors have the API's shape
``{"detail", "code", "errors"}``; a database outage is a 503, never a 500.
"""

from __future__ import annotations

import json
from typing import Any

from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    inline_serializer,
)
from rest_framework import serializers
from rest_framework.renderers import BaseRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from annoris.api.errors import ApiError
from annoris.api.renderers import JSONRenderer
from annoris.api.schema import ErrorSerializer
from annoris.timestamps import iso
from sessions_app.context import (
    CLIENT_PRESETS,
    MAX_BUDGET,
    MAX_CHARS,
    MIN_BUDGET,
    MIN_CHARS,
    build_context,
    project_next_steps,
    resolve_project,
)
from sessions_app.models import SessionState
from sessions_app.search import DEFAULT_LIMIT, MAX_LIMIT, MAX_QUERY_CHARS, QUERY_SYNTAX, run_search


class AssistantAPIView(APIView):
    """Errors (a bad query 400, no such project 404, a database outage 503) are answered by the
    API's one exception handler (``annoris.api.errors``), always as JSON."""

    def finalize_response(self, request: Request, response: Any, *args: Any, **kwargs: Any) -> Any:
        response = super().finalize_response(request, response, *args, **kwargs)
        if isinstance(response, Response) and response.status_code >= 400:
            response.accepted_renderer = JSONRenderer()
            response.accepted_media_type = "application/json"
        return response

    def query(self, serializer_class: type[serializers.Serializer]) -> dict[str, Any]:
        serializer = serializer_class(data=self.request.query_params)
        if not serializer.is_valid():
            raise ApiError(
                400, "Invalid query parameters.", code="invalid", errors=_listed(serializer.errors)
            )
        return serializer.validated_data

    def link_base(self) -> str:
        return self.request.build_absolute_uri("/").rstrip("/")


def _listed(detail: Any) -> dict[str, list[str]]:
    if isinstance(detail, dict):
        return {str(k): [str(m) for m in (v if isinstance(v, list) else [v])] for k, v in detail.items()}
    return {"non_field_errors": [str(m) for m in (detail if isinstance(detail, list) else [detail])]}


# --- context ------------------------------------------------------------------------------


class MarkdownRenderer(BaseRenderer):
    """``text/markdown``: the context's markdown itself (``?format=md``, the default)."""

    media_type = "text/markdown"
    format = "md"
    charset = "utf-8"

    def render(
        self, data: Any, accepted_media_type: str | None = None, renderer_context: Any = None
    ) -> bytes:
        if isinstance(data, dict) and "markdown" in data:
            return data["markdown"].encode("utf-8")
        return json.dumps(data, ensure_ascii=False).encode("utf-8")


class ContextQuery(serializers.Serializer):
    project = serializers.CharField(
        required=False, max_length=255, help_text="Project name (any case) or id; omit for recent projects."
    )
    budget_tokens = serializers.IntegerField(
        required=False,
        min_value=MIN_BUDGET,
        max_value=MAX_BUDGET,
        help_text="Most tokens the context may take, counted as the largest of cl100k_base, o200k_base "
        "and Claude's tokenizer (default 2,500, or the client's).",
    )
    budget_chars = serializers.IntegerField(
        required=False,
        min_value=MIN_CHARS,
        max_value=MAX_CHARS,
        help_text="Most characters (UTF-16 units) the context may take, e.g. a hook's output cap.",
    )
    client = serializers.ChoiceField(
        required=False,
        choices=list(CLIENT_PRESETS),
        help_text="Budgets for a client: claude-code (9,500 characters: its SessionStart hook shows "
        "10,000), codex (2,500 tokens), chatgpt (4,000 tokens). Explicit budgets win.",
    )


ContextSessions = inline_serializer(
    name="ContextSessions",
    fields={
        "whole": serializers.ListField(child=serializers.UUIDField()),
        "cut": serializers.ListField(child=serializers.UUIDField()),
        "summarized": serializers.ListField(child=serializers.UUIDField()),
        "left_out": serializers.ListField(child=serializers.UUIDField()),
    },
)
ContextSerializer = inline_serializer(
    name="Context",
    fields={
        "markdown": serializers.CharField(),
        "tokens": serializers.IntegerField(),
        "budget_tokens": serializers.IntegerField(),
        "budget_chars": serializers.IntegerField(allow_null=True),
        "token_counter": serializers.CharField(),
        "projects": serializers.ListField(child=serializers.CharField()),
        "sessions": ContextSessions,
        "next_steps": serializers.ListField(child=serializers.DictField()),
        "more_sessions": serializers.IntegerField(),
        "more_steps": serializers.IntegerField(),
    },
)
_CONTEXT_HEADERS = {
    "X-Context-Tokens": "Tokens in the context (the estimate named by X-Context-Token-Counter).",
    "X-Context-Budget": "The budget asked for.",
    "X-Context-Whole": "Ids of the sessions included whole, comma-separated.",
    "X-Context-Cut": "Id of the session cut to fit (the newest, when it does not fit whole).",
    "X-Context-Summarized": "Ids of the sessions shown as title, state and next only.",
    "X-Context-Left-Out": "Ids of the sessions considered but left out.",
    "X-Context-More": "Sessions and open steps the context did not show at all.",
}


class ContextView(AssistantAPIView):
    """The start-of-session context: project header, open next steps, sessions newest first."""

    renderer_classes = [MarkdownRenderer, JSONRenderer]

    @extend_schema(
        operation_id="context_retrieve",
        summary="Token-budgeted start-of-session context",
        parameters=[
            ContextQuery,
            OpenApiParameter("format", str, enum=["md", "json"], description="md (default) or json."),
        ],
        responses={
            (200, "text/markdown"): OpenApiResponse(OpenApiTypes.STR, description="The context as markdown."),
            (200, "application/json"): ContextSerializer,
            400: OpenApiResponse(
                ErrorSerializer, description="budget_tokens out of range, bad project value."
            ),
            404: OpenApiResponse(ErrorSerializer, description="No such project."),
            503: OpenApiResponse(ErrorSerializer, description="The database is unavailable."),
        },
        examples=[OpenApiExample("Context", value={"markdown": "# Context: Annoris\n", "tokens": 9})],
    )
    def get(self, request: Request) -> Response:
        params = self.query(ContextQuery)
        result = build_context(
            params.get("project"),
            params.get("budget_tokens"),
            budget_chars=params.get("budget_chars"),
            client=params.get("client"),
            link_base=self.link_base(),
        )
        headers = {
            "X-Context-Tokens": str(result.tokens),
            "X-Context-Budget": str(result.budget_tokens),
            "X-Context-Token-Counter": result.counter,
            "X-Context-Whole": ",".join(result.whole),
            "X-Context-Cut": ",".join(result.cut),
            "X-Context-Summarized": ",".join(result.summarized),
            "X-Context-Left-Out": ",".join(result.left_out),
            "X-Context-More": f"{result.more_sessions} sessions, {result.more_steps} steps",
        }
        return Response(result.as_dict(), headers=headers)


# --- next steps -------------------------------------------------------------------------------

NextStepSerializer = inline_serializer(
    many=True,
    name="NextStep",
    fields={
        "text": serializers.CharField(),
        "session": inline_serializer(
            name="NextStepSession",
            fields={
                "id": serializers.UUIDField(),
                "title": serializers.CharField(),
                "created_at": serializers.DateTimeField(),
                "url": serializers.URLField(),
            },
        ),
    },
)


class NextStepsView(AssistantAPIView):
    """Open next steps of a project's recent sessions, newest first, each linked to its session."""

    @extend_schema(
        operation_id="projects_next_steps",
        summary="Open next steps of a project",
        parameters=[
            OpenApiParameter("project", str, OpenApiParameter.PATH, description="Project id or name.")
        ],
        responses={
            200: inline_serializer(
                name="NextSteps",
                fields={
                    "project": serializers.CharField(),
                    "project_id": serializers.UUIDField(),
                    "next_steps": NextStepSerializer,
                },
            ),
            404: OpenApiResponse(ErrorSerializer, description="No such project."),
            503: OpenApiResponse(ErrorSerializer, description="The database is unavailable."),
        },
    )
    def get(self, request: Request, project: str) -> Response:
        found = resolve_project(project)  # ProjectNotFound: 404
        steps = project_next_steps(found, link_base=self.link_base())
        return Response(
            {
                "project": found.name,
                "project_id": str(found.id),
                "next_steps": [
                    {
                        "text": step.text,
                        "session": {
                            "id": str(step.session_id),
                            "title": step.session_title,
                            "created_at": iso(step.session_created_at),
                            "url": step.url,
                        },
                    }
                    for step in steps
                ],
            }
        )


# --- search ----------------------------------------------------------------------------------


class SearchQuery(serializers.Serializer):
    q = serializers.CharField(max_length=MAX_QUERY_CHARS, help_text=QUERY_SYNTAX)
    project = serializers.CharField(required=False, max_length=255, help_text="Project name or id.")
    limit = serializers.IntegerField(required=False, default=DEFAULT_LIMIT, min_value=1, max_value=MAX_LIMIT)
    offset = serializers.IntegerField(required=False, default=0, min_value=0, max_value=10_000)
    state = serializers.ChoiceField(
        choices=SessionState.choices, required=False, help_text="Only this state."
    )
    since = serializers.DateTimeField(required=False, help_text="Only sessions created at or after this.")


SearchHitSerializer = inline_serializer(
    many=True,
    name="SearchHit",
    fields={
        "id": serializers.UUIDField(),
        "title": serializers.CharField(),
        "project": serializers.CharField(allow_null=True),
        "state": serializers.CharField(),
        "created_at": serializers.DateTimeField(),
        "path": serializers.CharField(),
        "score": serializers.FloatField(),
        "match": serializers.CharField(help_text="exact, stem, part or meaning"),
        "snippet": serializers.CharField(help_text="The line holding the match, the match in **."),
        "url": serializers.URLField(),
    },
)


class SearchView(AssistantAPIView):
    """Search sessions by words of their title and body through the blind index (BM25-ranked)."""

    @extend_schema(
        operation_id="search_list",
        summary="Search sessions (title and encrypted body)",
        parameters=[SearchQuery],
        responses={
            200: inline_serializer(
                name="SearchResults",
                fields={
                    "query": serializers.CharField(),
                    "count": serializers.IntegerField(),
                    "results": SearchHitSerializer,
                    "ignored": serializers.ListField(child=serializers.CharField()),
                    "incomplete": serializers.BooleanField(),
                    "waiting_to_index": serializers.IntegerField(required=False),
                },
            ),
            400: OpenApiResponse(ErrorSerializer, description="Missing, overlong or malformed q, bad limit."),
            404: OpenApiResponse(ErrorSerializer, description="No such project."),
            503: OpenApiResponse(ErrorSerializer, description="The database is unavailable."),
        },
    )
    def get(self, request: Request) -> Response:
        params = self.query(SearchQuery)
        project = None
        if params.get("project"):
            project = resolve_project(params["project"])  # ProjectNotFound: 404
        found = run_search(
            params["q"],
            project=project,
            state=params.get("state"),
            since=params.get("since"),
            limit=params["limit"],
            offset=params["offset"],
        )
        answer = found.as_dict()
        base = self.link_base()
        for hit in answer["results"]:
            hit["url"] = base + reverse("session-detail", args=[hit["id"]])
        return Response({"query": params["q"], **answer})
