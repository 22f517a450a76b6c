"""URL configuration."""

from __future__ import annotations

from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from annoris.oauth.views import LoginView
from annoris.views import favicon, landing

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
    # Browsers ask for /favicon.ico on pages that name no icon (the browsable API, JSON pages).
    path("favicon.ico", favicon),
    path("oauth/login/", LoginView.as_view(), name="oauth-login"),
]
if settings.ANNORIS_PUBLIC_URL:  # the OAuth 2.1 server for remote connectors (issue #16)
    urlpatterns.append(path("", include("annoris.oauth.urls")))
