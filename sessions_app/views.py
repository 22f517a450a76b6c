"""Read API for sessions: thin views over ``Session.objects.fetch`` and the live queryset."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import DatabaseError
from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import generics
from rest_framework.exceptions import APIException, NotFound
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from annoris.crypto import DecryptionError
from sessions_app.models import Session
from sessions_app.readpath import ReadError, SessionNotFound, SessionUnavailable
from sessions_app.serializers import SessionDetailSerializer, SessionListSerializer


class Undecryptable(APIException):
    status_code = 422  # this session cannot be served; never a 500 (issue #10)
    default_detail = "The session cannot be decrypted with the configured keys."


class _DatabaseErrorsAre503:
    """A database outage (in the view or in authentication) answers 503, never a 500 page."""

    def handle_exception(self, exc: Exception) -> Response:
        if isinstance(exc, DatabaseError):
            return _unavailable("The database is unavailable; try again shortly.")
        return super().handle_exception(exc)  # type: ignore[misc]


def _unavailable(detail: str) -> Response:
    retry_after = str(max(1, round(settings.ANNORIS_BREAKER_COOLDOWN)))
    return Response({"detail": detail}, status=503, headers={"Retry-After": retry_after})


class SessionDetail(_DatabaseErrorsAre503, APIView):
    """GET one session through the read path; headers say which layer served it and how fast."""

    @extend_schema(responses={200: SessionDetailSerializer, 404: None, 503: None})
    def get(self, request: Request, session_id: uuid.UUID) -> Response:
        try:
            result = Session.objects.fetch(session_id)
        except SessionNotFound:
            raise NotFound("No such session.") from None
        except SessionUnavailable as exc:
            return _unavailable(str(exc))
        except ReadError as exc:  # SessionUnreadable: this one session's data cannot be served
            return Response({"detail": str(exc)}, status=exc.status_code)
        try:
            data = SessionDetailSerializer(result.session).data
        except DecryptionError:
            raise Undecryptable() from None
        headers = {
            "X-Annoris-Source": result.layer,
            "Server-Timing": f"{result.layer};dur={result.elapsed_ms:.2f}",
        }
        return Response(data, headers=headers)


class SessionList(_DatabaseErrorsAre503, generics.ListAPIView):
    """GET live sessions from the database, newest first; ``?project=<name>&status=<status>``."""

    serializer_class = SessionListSerializer

    def get_queryset(self) -> QuerySet[Session]:
        queryset = Session.objects.live().select_related("project")
        if project := self.request.query_params.get("project"):
            queryset = queryset.filter(project__name__iexact=project)
        if status := self.request.query_params.get("status"):
            queryset = queryset.filter(status__iexact=status)
        return queryset
