"""The API's routes (included under ``api/`` by annoris/urls.py): trailing slashes everywhere.

The top wiring layer: each app names its own routes (``projects_app/api_urls.py``,
``sessions_app/api/urls.py``, ``sync_app/api/urls.py``) and this module puts them on one
router, so ``/api/`` lists them all. The router's routes come first (sessions, projects,
sync: the most used, and each pattern tried costs a read ~1 µs), then the others (drift,
context, search, next steps), then a JSON 404 for anything else. No two patterns overlap,
so the order only changes speed.
"""

from __future__ import annotations

from django.urls import path, re_path

from annoris.api.errors import not_found
from annoris.api.root import Router  # its root lists every route, described for people (#19)
from annoris.api.schema import DocsView, SchemaView
from projects_app import api_urls as projects
from sessions_app.api import urls as sessions
from sync_app.api import urls as sync

router = Router()
for prefix, viewset, basename in (*sessions.routes, *projects.routes, *sync.routes):
    router.register(prefix, viewset, basename=basename)

urlpatterns = [
    path("schema/", SchemaView.as_view(), name="api-schema"),
    path("docs/", DocsView.as_view(), name="api-docs"),
    *sessions.urlpatterns,
    *router.urls,
    *sync.urlpatterns,
    *sessions.assistant_urlpatterns,
    re_path(r"^.*$", not_found),  # anything else under /api/: a JSON 404, never Django's HTML page
]
