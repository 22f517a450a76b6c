"""The sessions viewset: the write mixin in front of the read views.

Minimal on this branch: list and retrieve delegate to sessions_app's read views as they
are today. The read viewset of issue #7 replaces them; ``SessionWriteMixin`` stays in front.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.db import DatabaseError
from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from sessions_app.models import Session
from sessions_app.serializers import SessionDetailSerializer, SessionListSerializer
from sessions_app.views import SessionDetail, SessionList
from sync_app.api.session_writes import SessionWriteMixin


class SessionViewSet(SessionWriteMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    """Sessions: list, read, create, replace, change and delete."""

    serializer_class = SessionListSerializer
    lookup_value_regex = "[0-9a-fA-F-]{32,36}"

    def handle_exception(self, exc: Exception) -> Response:
        if isinstance(exc, DatabaseError):  # as the read views do: an outage is a 503, never a 500
            retry_after = str(max(1, round(settings.ANNORIS_BREAKER_COOLDOWN)))
            body = {"detail": "The database is unavailable; try again shortly.", "code": "unavailable"}
            return Response(body, status=503, headers={"Retry-After": retry_after})
        return super().handle_exception(exc)

    def get_queryset(self) -> QuerySet[Session]:
        return SessionList(request=self.request, format_kwarg=None).get_queryset()

    @extend_schema(responses={200: SessionDetailSerializer})
    def retrieve(self, request: Request, pk: str, *args: Any, **kwargs: Any) -> Response:
        try:
            session_id = uuid.UUID(pk)
        except ValueError:
            return Response({"detail": "No such session.", "code": "not_found"}, status=404)
        response = SessionDetail().get(request, session_id)
        if response.status_code == 200 and response.data.get("sha"):
            response["ETag"] = f'"{response.data["sha"]}"'
        return response
