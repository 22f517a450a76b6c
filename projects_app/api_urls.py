"""The projects API's routes, registered on the one /api/ router by annoris/api/urls.py."""

from __future__ import annotations

from projects_app.api import ProjectViewSet

routes = [("projects", ProjectViewSet, "project")]
