"""Admin for the outbox: what waits for GitHub, what stopped as a conflict, and what to do.

Conflicts are shown first-class: the kept content (decrypted, escaped) beside the SHA
GitHub held instead, with actions to retry (write the kept version over the version shown,
which conflicts again if GitHub changed once more) or discard.

Both actions can overwrite GitHub's version or drop a write the API accepted, so they need
the ``change_pendingwrite`` permission (viewing is not enough), a confirmation page, and
leave a LogEntry naming who did what to which entry (issue #20, finding 4).
"""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.db.models import QuerySet
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.utils.html import format_html

from annoris.crypto import DecryptionError
from annoris.encryption import decrypt_text
from sessions_app.models import PendingWrite
from sessions_app.writes import outbox_discard, outbox_retry
from sessions_app.writes.outbox import OPEN

_COLOURS = {"pending": "#1565c0", "conflict": "#c62828", "landed": "#2e7d32", "discarded": "#555"}


@admin.register(PendingWrite)
class PendingWriteAdmin(admin.ModelAdmin):
    list_display = (
        "id", "created_at", "operation", "path", "status_badge", "attempts", "next_attempt_at", "error_short",
    )  # fmt: skip
    list_filter = ("status", "operation")
    search_fields = ("path", "session_id")
    ordering = ("-id",)
    date_hierarchy = "created_at"
    actions = ("retry", "discard")
    fields = (
        "operation", "status_badge", "path", "session_id", "base_sha", "content_sha", "remote_sha",
        "message", "requested_by", "created_at", "updated_at", "attempts", "next_attempt_at",
        "claimed_until", "last_error", "landed_at", "landed_sha", "landed_commit", "kept_content",
    )  # fmt: skip
    readonly_fields = fields

    @admin.display(description="status", ordering="status")
    def status_badge(self, obj: PendingWrite) -> str:
        colour = _COLOURS.get(obj.status, "#555")
        return format_html('<strong style="color:{}">{}</strong>', colour, obj.get_status_display())

    @admin.display(description="last error")
    def error_short(self, obj: PendingWrite) -> str:
        return obj.last_error[:120]

    @admin.display(description="content kept in the outbox")
    def kept_content(self, obj: PendingWrite) -> str:
        if not obj.content:
            return "— (a delete)"
        try:
            text = decrypt_text(obj.content)
        except DecryptionError:
            return "(cannot be decrypted with the configured keys)"
        return format_html('<pre style="white-space:pre-wrap">{}</pre>', text)

    @admin.action(
        description="Retry the selected writes now (a conflict: over the GitHub version shown)",
        permissions=["resolve"],
    )
    def retry(self, request: HttpRequest, queryset: QuerySet[PendingWrite]) -> TemplateResponse | None:
        return self._confirmed(
            request, queryset, "retry", outbox_retry,
            warning="Retrying a conflict writes the kept version over the version GitHub holds now.",
            done="{} write(s) queued to be tried again.",
        )  # fmt: skip

    @admin.action(
        description="Discard the selected writes (GitHub keeps its version)", permissions=["resolve"]
    )
    def discard(self, request: HttpRequest, queryset: QuerySet[PendingWrite]) -> TemplateResponse | None:
        return self._confirmed(
            request, queryset, "discard", outbox_discard,
            warning="Discarded writes never reach GitHub; their content stays here for the record.",
            done="{} write(s) discarded; their content stays here.",
        )  # fmt: skip

    def has_resolve_permission(self, request: HttpRequest) -> bool:
        """Retry and discard change what reaches GitHub: the change permission, not view."""
        opts = self.opts
        return request.user.has_perm(f"{opts.app_label}.change_{opts.model_name}")

    def _confirmed(
        self,
        request: HttpRequest,
        queryset: QuerySet[PendingWrite],
        action: str,
        run: Callable[[list[PendingWrite]], int],
        *,
        warning: str,
        done: str,
    ) -> TemplateResponse | None:
        """A confirmation page first; on "yes", run the action and log it per entry."""
        entries = list(queryset)
        if request.POST.get("post") != "yes":
            context = {
                **self.admin_site.each_context(request),
                "title": f"{action.capitalize()} {len(entries)} pending write(s)?",
                "opts": self.opts,
                "entries": entries,
                "action": action,
                "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
                "warning": warning,
                "confirm": f"Yes, {action} them",
            }
            return TemplateResponse(request, "admin/sessions_app/pendingwrite/confirm_action.html", context)
        open_ones = [entry for entry in entries if entry.status in OPEN]
        count = run(open_ones)
        for entry in open_ones:
            self.log_change(request, entry, f"{action} (was {entry.status}, {entry.operation} {entry.path})")
        self.message_user(
            request, done.format(count), messages.SUCCESS if action == "retry" else messages.WARNING
        )
        return None

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: PendingWrite | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: PendingWrite | None = None) -> bool:
        return False  # nothing accepted is ever lost: discard keeps the row
