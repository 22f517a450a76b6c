"""The API's routes (included under ``api/`` by annoris/urls.py): trailing slashes everywhere.

The router's routes come first (sessions, projects, sync: the most used, and each pattern
tried costs a read ~1 µs), then the assistant's (context, search, next steps, drift), then a
JSON 404 for anything else. No two patterns overlap, so the order only changes speed.
"""

from __future__ import annotations

from django.urls import include, path, re_path

from annoris.api.errors import not_found
from annoris.api.root import Router
from annoris.api.schema import DocsView, SchemaView
from projects_app.api import PROJECT_REFERENCE, ProjectViewSet
from sync_app.api.sessions import SessionViewSet
from sync_app.api.sync import SyncViewSet

router = Router()
router.register("sessions", SessionViewSet, basename="session")
router.register("projects", ProjectViewSet, basename="project")
router.register("sync", SyncViewSet, basename="sync")

urlpatterns = [
    path("schema/", SchemaView.as_view(), name="api-schema"),
    path("docs/", DocsView.as_view(), name="api-docs"),
    re_path(
        rf"^projects/(?P<project_id>{PROJECT_REFERENCE})/sessions/$",
        SessionViewSet.as_view({"get": "project_sessions"}),
        name="project-sessions",
    ),
    *router.urls,
    path("", include("sync_app.assistant_urls")),  # context, search, next steps, drift (issue #8)
    re_path(r"^.*$", not_found),  # anything else under /api/: a JSON 404, never Django's HTML page
]
