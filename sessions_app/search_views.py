"""The REST view of session search (``GET /api/search/``): it validates the query and calls
``sessions_app.search.run_search``; errors are answered as every assistant view's are."""

from __future__ import annotations

from django.urls import reverse
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from annoris.api.schema import ErrorSerializer
from sessions_app.assistant_views import AssistantAPIView
from sessions_app.context import resolve_project
from sessions_app.models import SessionState
from sessions_app.search import DEFAULT_LIMIT, MAX_LIMIT, MAX_QUERY_CHARS, QUERY_SYNTAX, run_search


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
        "score": serializers.FloatField(
            min_value=0,
            help_text="Orders the results of one answer, higher first (BM25, or its fusion with "
            "meaning in hybrid search); not comparable across queries. match says the tier.",
        ),
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
                    "count": serializers.IntegerField(
                        help_text="Sessions matching in all; a lower bound when count_exact is false."
                    ),
                    "count_exact": serializers.BooleanField(
                        help_text="False when the count stopped at 1,000 (words each held by 1,000 "
                        "sessions or more, over 1,000 holding them all exactly): counting them all "
                        "would cost as much as ranking them all."
                    ),
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
