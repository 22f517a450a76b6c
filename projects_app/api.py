"""The projects API (issue #7): thin over ``projects_app.services``.

``/api/projects/{id}/sessions/`` is served by the sessions API (sessions_app depends on
projects_app, not the reverse) and registered beside this viewset in ``sync_app/api/urls.py``.
"""

from __future__ import annotations

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import viewsets
from rest_framework.serializers import BaseSerializer

from annoris.api.errors import ApiError
from annoris.api.pagination import CursorPagination
from annoris.api.schema import error_responses
from annoris.http import UUID_PATTERN
from projects_app import services
from projects_app.models import Project
from projects_app.serializers import ProjectSerializer, with_session_stats


class ProjectPagination(CursorPagination):
    ordering = ("-priority", "name")


@extend_schema_view(
    list=extend_schema(summary="List projects", operation_id="projects_list"),
    retrieve=extend_schema(summary="Read a project", operation_id="projects_retrieve"),
    create=extend_schema(
        summary="Create a project", responses={201: ProjectSerializer, **error_responses(400)}
    ),
    update=extend_schema(summary="Replace a project's fields"),
    partial_update=extend_schema(summary="Change some of a project's fields"),
    destroy=extend_schema(
        summary="Delete a project",
        description="Refused with 409 while live sessions belong to it.",
        responses={204: None, **error_responses(409)},
    ),
)
class ProjectViewSet(viewsets.ModelViewSet):
    """Projects with their session count, newest session and revenue gap."""

    serializer_class = ProjectSerializer
    pagination_class = ProjectPagination
    lookup_value_regex = UUID_PATTERN

    def get_queryset(self) -> QuerySet[Project]:
        return with_session_stats(Project.objects.all())

    def perform_create(self, serializer: BaseSerializer) -> None:
        serializer.instance = services.project_create(**serializer.validated_data)
        self._reload(serializer)

    def perform_update(self, serializer: BaseSerializer) -> None:
        services.project_update(project=serializer.instance, **serializer.validated_data)
        self._reload(serializer)

    def perform_destroy(self, instance: Project) -> None:
        try:
            services.project_delete(project=instance)
        except services.ProjectHasSessions as exc:
            raise ApiError(409, str(exc), code="project_has_sessions") from None

    def _reload(self, serializer: BaseSerializer) -> None:
        """Answer with the annotated row (session count, last session)."""
        serializer.instance = self.get_queryset().get(pk=serializer.instance.pk)
