from __future__ import annotations

from django.apps import AppConfig


class SessionsConfig(AppConfig):
    name = "sessions_app"
    label = "sessions_app"  # "sessions" is taken by django.contrib.sessions
    verbose_name = "Sessions"

    def ready(self) -> None:
        from sessions_app import receivers  # noqa: F401  (connects the cache invalidation)

        # The read path imports the models, so the manager loads it on first use; load it now that
        # the models are ready, so that the first read does not pay the import (~20 ms).
        from sessions_app.readpath import read  # noqa: F401
