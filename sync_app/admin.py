"""Admin for sync logs and webhook deliveries: read-only, status at a glance, details readable."""

from __future__ import annotations

import json

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponseRedirect
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html, format_html_join
from django.views.decorators.http import require_POST

from sync_app.models import SyncLog, WebhookDelivery
from sync_app.services import sync_enqueue

_STATUS_COLOURS = {"success": "#2e7d32", "partial": "#ef6c00", "failed": "#c62828", "running": "#1565c0"}


@admin.register(SyncLog)
class SyncLogAdmin(admin.ModelAdmin):
    list_display = (
        "synced_at",
        "source",
        "status_badge",
        "files_synced",
        "errors",
        "duration",
        "revision_short",
    )
    list_filter = ("status", "source")
    date_hierarchy = "synced_at"
    search_fields = ("revision",)
    fields = (
        "synced_at", "finished_at", "source", "status_badge", "files_synced", "errors", "revision",
        "summary", "error_list", "details_pretty",
    )  # fmt: skip
    readonly_fields = fields

    @admin.display(description="status", ordering="status")
    def status_badge(self, obj: SyncLog) -> str:
        colour = _STATUS_COLOURS.get(obj.status, "#555")
        return format_html('<strong style="color:{}">{}</strong>', colour, obj.get_status_display())

    @admin.display(description="duration")
    def duration(self, obj: SyncLog) -> str:
        ms = obj.details.get("duration_ms")
        return "—" if ms is None else f"{ms / 1000:.2f} s"

    @admin.display(description="commit")
    def revision_short(self, obj: SyncLog) -> str:
        return obj.revision[:10]

    @admin.display(description="summary")
    def summary(self, obj: SyncLog) -> str:
        counts = obj.details.get("counts", {})
        text = ", ".join(f"{name} {count}" for name, count in counts.items() if count) or "nothing to do"
        if obj.details.get("error"):
            text += f" — {obj.details['error']}"
        return text

    @admin.display(description="file errors")
    def error_list(self, obj: SyncLog) -> str:
        errors = obj.details.get("errors", [])
        if not errors:
            return "—"
        items = format_html_join(
            "", "<li><code>{}</code>: {}</li>", ((e["path"], e["error"]) for e in errors)
        )
        return format_html("<ul>{}</ul>", items)

    @admin.display(description="details")
    def details_pretty(self, obj: SyncLog) -> str:
        return format_html("<pre>{}</pre>", json.dumps(obj.details, indent=2, ensure_ascii=False))

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: SyncLog | None = None) -> bool:
        return False

    def get_urls(self) -> list[URLPattern]:
        sync_now = self.admin_site.admin_view(require_POST(self.sync_now))
        return [path("sync-now/", sync_now, name="sync_app_synclog_sync_now"), *super().get_urls()]

    def sync_now(self, request: HttpRequest) -> HttpResponseRedirect:
        """The changelist's "Sync now" button: queue a sync (it coalesces with a running one)."""
        if not request.user.is_superuser:
            raise PermissionDenied
        try:
            sync_enqueue(trigger=SyncLog.Source.MANUAL)
        except Exception as exc:  # the queue (database) refused: say so, do not 500
            self.message_user(request, f"Could not queue a sync: {type(exc).__name__}", messages.ERROR)
        else:
            self.message_user(request, "Sync queued; its log appears here when it runs.", messages.SUCCESS)
        return HttpResponseRedirect(reverse("admin:sync_app_synclog_changelist"))


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    """GitHub deliveries as received: what came, what was done with it, which sync covered it."""

    list_display = ("received_at", "event", "ref", "after_short", "status", "attempts", "delivery_id")
    list_filter = ("status", "event")
    date_hierarchy = "received_at"
    ordering = ("-received_at",)
    search_fields = ("delivery_id", "after", "ref")
    list_select_related = ("sync_log",)
    fields = (
        "delivery_id", "event", "ref", "after", "received_at", "status", "attempts", "sync_log", "error",
    )  # fmt: skip
    readonly_fields = fields

    @admin.display(description="commit")
    def after_short(self, obj: WebhookDelivery) -> str:
        return obj.after[:10]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: WebhookDelivery | None = None) -> bool:
        return False


from sync_app import outbox_admin  # noqa: E402,F401 - registers the outbox (pending writes) admin
