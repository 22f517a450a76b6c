from __future__ import annotations

from django.urls import path

from sync_app import views

urlpatterns = [
    path("health", views.health, name="health"),
    path("webhooks/github", views.github_webhook, name="github-webhook"),
]
