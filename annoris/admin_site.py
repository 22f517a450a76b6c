"""The admin site: Annoris's own apps first, an index with a health panel, "View site" to /.

This package imports no app: the panel's template (``admin/annoris_index.html``) and its
template tag live in ``sync_app``, which knows what health is. The site only orders apps.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import Http404, HttpRequest

# Apps in the order they appear on the index; every other app follows, alphabetically.
APP_ORDER = ("projects_app", "sessions_app", "sync_app")


class AnnorisAdminSite(admin.AdminSite):
    site_header = "Annoris"
    site_title = "Annoris"
    index_title = "Working memory"
    site_url = "/"  # the landing page
    index_template = "admin/annoris_index.html"

    def get_app_list(self, request: HttpRequest, app_label: str | None = None) -> list[dict[str, Any]]:
        apps = super().get_app_list(request, app_label)
        rank = {label: position for position, label in enumerate(APP_ORDER)}
        return sorted(apps, key=lambda app: (rank.get(app["app_label"], len(rank)), app["name"].lower()))


class ReadOnlyAdmin(admin.ModelAdmin):
    """A mirror or a record: viewable only. No add, change, delete or history (and no links to them)."""

    change_form_template = "admin/annoris/readonly_change_form.html"
    change_list_template = "admin/annoris/change_list.html"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def history_view(self, request: HttpRequest, object_id: str, extra_context: Any = None) -> Any:
        raise Http404("These records are not edited here, so they have no history.")
