"""URL configuration."""

from __future__ import annotations

from django.contrib import admin
from django.urls import include, path

admin.site.site_header = "Annoris"
admin.site.site_title = "Annoris"
admin.site.index_title = "Working memory"

urlpatterns = [
    path("admin/", admin.site.urls),
    # The whole REST API (router, schema, docs): sync_app sits at the top of the import chain.
    path("api/", include("sync_app.api.urls")),
    path("", include("sync_app.urls")),
]
