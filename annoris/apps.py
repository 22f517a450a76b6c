"""App config for the project package: system checks for configuration."""

from __future__ import annotations

from django.apps import AppConfig


class AnnorisConfig(AppConfig):
    name = "annoris"
    verbose_name = "Annoris"

    def ready(self) -> None:
        from annoris import checks  # noqa: F401  (registers the checks)
        from annoris.api import schema_extensions  # noqa: F401  (registers them with drf-spectacular)
