"""``/api/sync/``: start a sync (202) and watch sync runs (the SyncLog)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.urls import reverse
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from annoris.api.pagination import CursorPagination
from annoris.api.schema import header
from annoris.http import UUID_PATTERN
from sync_app.api.serializers import SyncLogSerializer, SyncLogSummarySerializer, SyncQueuedSerializer
from sync_app.control import sync_request
from sync_app.models import SyncLog


class SyncPagination(CursorPagination):
    ordering = ("-synced_at", "id")


@extend_schema_view(
    list=extend_schema(summary="List sync runs, newest first", operation_id="sync_list"),
    retrieve=extend_schema(
        summary="Read one sync run with its per-file details", operation_id="sync_retrieve"
    ),
)
class SyncViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Sync runs with GitHub; POST starts one (or joins the one running)."""

    pagination_class = SyncPagination
    lookup_value_regex = UUID_PATTERN

    def get_queryset(self) -> QuerySet[SyncLog]:
        return SyncLog.objects.all()

    def get_serializer_class(self) -> type:
        return SyncLogSummarySerializer if self.action == "list" else SyncLogSerializer

    @extend_schema(
        operation_id="sync_create",
        summary="Start a sync",
        description=(
            "Queues a sync of the repository in the task queue and answers at once. When a sync "
            "is already running it is asked to run once more (coalesced) instead of starting another."
        ),
        request=None,
        parameters=[header("Location", "The sync log to follow.", [202])],
        responses={202: OpenApiResponse(SyncQueuedSerializer)},
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        queued = sync_request()
        url = (
            request.build_absolute_uri(reverse("sync-detail", args=[queued.log_id]))
            if queued.log_id
            else None
        )
        body = {
            "detail": "sync coalesced with the running one" if queued.coalesced else "sync queued",
            "coalesced": queued.coalesced,
            "task_id": queued.task_id,
            "sync_log": str(queued.log_id) if queued.log_id else None,
            "sync_log_url": url,
        }
        return Response(body, status=202, headers={"Location": url} if url else None)
