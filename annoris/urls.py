"""URL configuration."""

from __future__ import annotations

from django.contrib import admin
from django.urls import include, path

admin.site.site_header = "Annoris"
admin.site.site_title = "Annoris"
admin.site.index_title = "Working memory"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", include("sessions_app.urls")),
    path("", include("sync_app.urls")),
]
