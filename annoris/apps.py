"""App config for the project package: system checks for configuration."""

from __future__ import annotations

from django.apps import AppConfig
from django.contrib.admin.apps import AdminConfig


class AnnorisConfig(AppConfig):
    name = "annoris"
    verbose_name = "Annoris"

    def ready(self) -> None:
        from annoris import checks  # noqa: F401  (registers the checks)
        from annoris.api import schema_extensions  # noqa: F401  (registers them with drf-spectacular)


class AnnorisAdminConfig(AdminConfig):
    """django.contrib.admin with Annoris's site as ``admin.site`` (see annoris.admin_site)."""

    default_site = "annoris.admin_site.AnnorisAdminSite"
