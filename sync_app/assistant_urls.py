"""API routes of issue #8, included under ``api/`` after the router's (annoris/api/urls.py)."""

from __future__ import annotations

from django.urls import include, path

from sync_app.drift_views import DriftView

urlpatterns = [
    path("sync/drift/", DriftView.as_view(), name="sync-drift"),
    path("", include("sessions_app.assistant_urls")),
]
