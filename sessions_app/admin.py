"""Admin for sessions: browse, search and read the decrypted, rendered document."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

from annoris.crypto import DecryptionError
from sessions_app.models import Session
from sessions_app.rendering import render_markdown


class LiveFilter(admin.SimpleListFilter):
    title = "in repository"
    parameter_name = "live"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        return [("yes", "Present"), ("no", "Deleted from repository")]

    def queryset(self, request: HttpRequest, queryset):  # type: ignore[no-untyped-def]
        if self.value() == "yes":
            return queryset.live()
        if self.value() == "no":
            return queryset.deleted()
        return queryset


@admin.register(Session)
class SessionAdmin(admin.ModelAdmin):
    list_display = (
        "title",
        "project",
        "status",
        "priority",
        "created_at",
        "last_synced",
        "github_path",
        "present",
    )
    list_filter = (LiveFilter, "project", "status", "priority")
    list_select_related = ("project",)
    search_fields = ("title", "github_path")
    date_hierarchy = "created_at"
    ordering = ("-created_at",)
    # Sessions mirror the repository (the master copy): edits belong there, so every field is read-only.
    readonly_fields = (
        "id", "title", "project", "status", "priority", "next_step", "created_at", "github_path",
        "github_sha", "checksum", "last_synced", "deleted_at", "rendered_content",
    )  # fmt: skip
    fieldsets = (
        (None, {"fields": ("title", "project", "status", "priority", "next_step", "created_at")}),
        ("Document", {"fields": ("rendered_content",)}),
        (
            "Repository",
            {"fields": ("github_path", "github_sha", "checksum", "last_synced", "deleted_at", "id")},
        ),
    )

    @admin.display(boolean=True, description="in repo")
    def present(self, obj: Session) -> bool:
        return obj.deleted_at is None

    @admin.display(description="content")
    def rendered_content(self, obj: Session) -> SafeString:
        try:
            text = obj.text
        except DecryptionError as exc:
            return format_html('<p class="errornote">Cannot decrypt: {}</p>', str(exc))
        # render_markdown sanitises with an allow-list, so the result is safe to mark.
        return mark_safe(f'<div class="annoris-document">{render_markdown(text)}</div>')  # noqa: S308

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Session | None = None) -> bool:
        return False
