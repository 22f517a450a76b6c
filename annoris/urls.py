"""URL configuration."""

from __future__ import annotations

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView

from annoris.views import landing

admin.site.site_header = "Annoris"
admin.site.site_title = "Annoris"
admin.site.index_title = "Working memory"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/", include("sync_app.assistant_urls")),  # context, search, next steps, drift (issue #8)
    path("api/", include("sessions_app.urls")),
    path("mcp", include("sync_app.mcp.urls")),  # MCP over streamable HTTP (issue #8)
    path("", include("sync_app.urls")),
    path("", landing, name="landing"),
]
