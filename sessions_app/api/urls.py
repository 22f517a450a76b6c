"""The sessions API's routes: the viewset's (registered on the /api/ router by annoris/api/urls.py),
a project's sessions, and the assistant's (context, search, next steps)."""

from __future__ import annotations

from django.urls import include, path, re_path

from projects_app.api import PROJECT_REFERENCE
from sessions_app.api.views import SessionViewSet

routes = [("sessions", SessionViewSet, "session")]

urlpatterns = [
    re_path(
        rf"^projects/(?P<project_id>{PROJECT_REFERENCE})/sessions/$",  # id, name or slug
        SessionViewSet.as_view({"get": "project_sessions"}),
        name="project-sessions",
    ),
]
assistant_urlpatterns = [path("", include("sessions_app.assistant_urls"))]  # issue #8
