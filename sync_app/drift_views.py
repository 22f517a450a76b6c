"""GET /api/sync/drift/: the drift report (issue #8), a thin view over ``drift_report()``."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from sessions_app.assistant_views import AssistantAPIView, ErrorSerializer
from sync_app.drift import drift_report


def _paths() -> serializers.ListField:
    return serializers.ListField(child=serializers.DictField(child=serializers.CharField()))


class DriftView(AssistantAPIView):
    """Compare the database with the source now (at most 2 GitHub calls)."""

    @extend_schema(
        operation_id="sync_drift",
        summary="Drift between the database and the source",
        description=(
            "Sessions whose stored blob SHA differs from the source, source files not yet synced, "
            "rows whose file is gone, outbox entries not yet landed, and the age of the last "
            "successful sync. Lists hold at most 100 paths each; counts are complete. When the "
            "source cannot be listed, `error` says why and the source counts are null."
        ),
        responses={
            200: inline_serializer(
                name="DriftReport",
                fields={
                    "checked_at": serializers.DateTimeField(),
                    "source": serializers.CharField(),
                    "revision": serializers.CharField(allow_null=True),
                    "in_sync": serializers.BooleanField(),
                    "changed": _paths(),
                    "not_synced": _paths(),
                    "gone": _paths(),
                    "counts": serializers.DictField(child=serializers.IntegerField(allow_null=True)),
                    "outbox_pending": serializers.IntegerField(),
                    "last_sync_at": serializers.DateTimeField(allow_null=True),
                    "last_sync_age_seconds": serializers.IntegerField(allow_null=True),
                    "source_calls": serializers.IntegerField(allow_null=True),
                    "error": serializers.CharField(allow_null=True),
                },
            ),
            503: OpenApiResponse(ErrorSerializer, description="The database is unavailable."),
        },
    )
    def get(self, request: Request) -> Response:
        return Response(drift_report().as_dict())
