"""The sync API's routes: the sync viewset (on the /api/ router, see annoris/api/urls.py) and drift."""

from __future__ import annotations

from django.urls import path

from sync_app.api.sync import SyncViewSet
from sync_app.drift_views import DriftView

routes = [("sync", SyncViewSet, "sync")]

urlpatterns = [path("sync/drift/", DriftView.as_view(), name="sync-drift")]
