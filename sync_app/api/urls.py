"""API routes under ``api/`` (DRF router: trailing slashes everywhere)."""

from __future__ import annotations

from rest_framework.routers import DefaultRouter

from sync_app.api.sessions import SessionViewSet

router = DefaultRouter()
router.register("sessions", SessionViewSet, basename="session")

urlpatterns = router.urls
