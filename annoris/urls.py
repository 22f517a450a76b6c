"""URL configuration."""

from __future__ import annotations

from django.contrib import admin
from django.urls import include, path

from annoris.views import landing

admin.site.site_header = "Annoris"
admin.site.site_title = "Annoris"
admin.site.index_title = "Working memory"

urlpatterns = [
    path("admin/", admin.site.urls),
    # The REST API: router, schema, docs, then the assistant's routes (annoris/api/urls.py;
    # sync_app sits at the top of the import chain).
    path("api/", include("annoris.api.urls")),
    path("mcp", include("annoris.mcp.urls")),  # MCP over streamable HTTP (issue #8)
    path("", include("sync_app.urls")),
    path("", landing, name="landing"),
]
