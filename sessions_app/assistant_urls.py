"""Routes of the assistant interface (issue #8), included under ``api/`` through sessions_app/api/urls.py."""

from __future__ import annotations

from django.urls import path

from sessions_app import assistant_views as views
from sessions_app.activity_views import ActivityView

urlpatterns = [
    path("context/", views.ContextView.as_view(), name="context"),
    path("search/", views.SearchView.as_view(), name="search"),
    path("activity/", ActivityView.as_view(), name="activity"),
    path("projects/<str:project>/next-steps/", views.NextStepsView.as_view(), name="project-next-steps"),
]
