"""The projects API (issue #7): thin over ``projects_app.services``.

``/api/projects/{id}/sessions/`` is served by the sessions API (sessions_app depends on
projects_app, not the reverse) and registered beside this viewset in ``sessions_app/api/urls.py``.
"""

from __future__ import annotations

from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import viewsets
from rest_framework.exceptions import NotFound
from rest_framework.serializers import BaseSerializer

from annoris.api.errors import ApiError
from annoris.api.pagination import CursorPagination
from annoris.api.schema import error_responses
from projects_app import services
from projects_app.models import Project
from projects_app.selectors import ProjectNotFound, find_project
from projects_app.serializers import ProjectSerializer, with_session_stats

# A project in a URL: its id, name, slug or folder name, any case (``find_project``), as the
# next-steps URL and the MCP tools take it. No "/" (a name is one path segment).
PROJECT_REFERENCE = r"[^/]+"
PROJECT_PARAMETER = OpenApiParameter(
    "id", OpenApiTypes.STR, OpenApiParameter.PATH, description="Project id, name or slug (any case)."
)


def project_or_404(reference: str) -> Project:
    """The project a URL names (id, name, slug or folder), or a 404 that says "did you mean"."""
    try:
        return find_project(reference)
    except ProjectNotFound as exc:
        raise NotFound(f"No such project: {exc}.") from None


class ProjectPagination(CursorPagination):
    ordering = ("-priority", "name")


@extend_schema_view(
    list=extend_schema(summary="List projects", operation_id="projects_list"),
    retrieve=extend_schema(
        summary="Read a project", operation_id="projects_retrieve", parameters=[PROJECT_PARAMETER]
    ),
    create=extend_schema(
        summary="Create a project", responses={201: ProjectSerializer, **error_responses(400)}
    ),
    update=extend_schema(summary="Replace a project's fields", parameters=[PROJECT_PARAMETER]),
    partial_update=extend_schema(summary="Change some of a project's fields", parameters=[PROJECT_PARAMETER]),
    destroy=extend_schema(
        summary="Delete a project",
        parameters=[PROJECT_PARAMETER],
        description="Refused with 409 while live sessions belong to it.",
        responses={204: None, **error_responses(409)},
    ),
)
class ProjectViewSet(viewsets.ModelViewSet):
    """Projects with their session count, newest session and revenue gap."""

    serializer_class = ProjectSerializer
    pagination_class = ProjectPagination
    lookup_value_regex = PROJECT_REFERENCE

    def get_queryset(self) -> QuerySet[Project]:
        return with_session_stats(Project.objects.all())

    def get_object(self) -> Project:
        project = project_or_404(self.kwargs[self.lookup_url_kwarg or self.lookup_field])
        found = self.get_queryset().get(pk=project.pk)  # with the session stats
        self.check_object_permissions(self.request, found)
        return found

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
