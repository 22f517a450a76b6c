from __future__ import annotations

from django.apps import AppConfig


class SessionsConfig(AppConfig):
    name = "sessions_app"
    label = "sessions_app"  # "sessions" is taken by django.contrib.sessions
    verbose_name = "Sessions"

    def ready(self) -> None:
        from sessions_app import receivers  # noqa: F401  (connects the cache invalidation)

        # The read path imports the models, so the models cannot import it: plug it into the
        # manager here, once the models are ready (Session.objects.fetch).
        from sessions_app.managers import SessionManager
        from sessions_app.readpath import read

        SessionManager.read_path = read
