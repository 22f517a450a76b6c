"""Admin for sync logs and webhook deliveries: read-only, status at a glance, details readable.

It also gives the session page its sync history and the project page its open next steps:
this app imports ``sessions_app`` and ``projects_app`` (never the reverse), so the session
and project admins registered here are theirs with those parts filled in.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponseRedirect
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html, format_html_join
from django.views.decorators.http import require_POST

from annoris.admin_site import ReadOnlyAdmin
from projects_app import admin as projects_admin
from projects_app.models import Project
from sessions_app import admin as sessions_admin
from sessions_app.context import project_next_steps
from sessions_app.models import Session
from sync_app.control import sync_request
from sync_app.history import file_history, file_rows
from sync_app.models import SyncLog, WebhookDelivery

_STATUS_COLOURS = {
    "success": "#2e7d32", "partial": "#ef6c00", "failed": "#c62828", "running": "#1565c0",
    "queued": "#1565c0",
}  # fmt: skip


def _commit_link(revision: str) -> str:
    if not revision:
        if settings.SESSIONS_SOURCE != "github":
            return "— (the source is a local folder, which has no commits)"
        return "—"
    if settings.SESSIONS_SOURCE != "github":
        return format_html("<code>{}</code>", revision)
    url = f"{sessions_admin.github_web_url()}/{settings.GITHUB_REPO}/commit/{revision}"
    return format_html('<a href="{}" rel="noopener noreferrer"><code>{}</code></a>', url, revision)


@admin.register(SyncLog)
class SyncLogAdmin(ReadOnlyAdmin):
    change_list_template = "admin/sync_app/synclog/change_list.html"  # with the "Sync now" button
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
        "synced_at", "finished_at", "duration", "source", "status_badge", "files_synced", "errors",
        "commit", "summary", "api_use", "file_table",
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
        return obj.revision[:10] or "—"

    @admin.display(description="revision")
    def commit(self, obj: SyncLog) -> str:
        return _commit_link(obj.revision)

    @admin.display(description="GitHub API")
    def api_use(self, obj: SyncLog) -> str:
        calls = obj.details.get("api_calls")
        if calls is None:
            return "—"
        remaining = obj.details.get("rate_limit_remaining")
        return f"{calls} calls" + (f", {remaining} left in the rate limit" if remaining is not None else "")

    @admin.display(description="summary")
    def summary(self, obj: SyncLog) -> str:
        counts = obj.details.get("counts", {})
        text = ", ".join(f"{name} {count}" for name, count in counts.items() if count) or "nothing to do"
        if obj.details.get("error"):
            text += f" — {obj.details['error']}"
        return text

    @admin.display(description="files")
    def file_table(self, obj: SyncLog) -> str:
        rows = file_rows(obj)
        if not rows:
            return "No file was added, changed, deleted or restored."
        sessions = dict(
            Session.objects.filter(github_path__in=[row["path"] for row in rows]).values_list(
                "github_path", "pk"
            )
        )
        body = format_html_join(
            "",
            '<tr class="action-{}"><td>{}</td><td class="path">{}</td><td>{}</td><td>{}</td></tr>',
            (
                (
                    row["action"],
                    row["action"],
                    self._path_link(row["path"], sessions.get(row["path"])),
                    row["reason"] or "—",
                    row["repaired_from"] or "—",
                )
                for row in rows
            ),
        )
        counts = obj.details.get("counts", {})
        total = sum(counts.get(k, 0) for k in ("added", "updated", "restored", "deleted", "failed"))
        note = (
            format_html('<p class="help">The first {} of {} files.</p>', len(rows), total)
            if total > len(rows)
            else ""
        )
        return format_html(
            '<div class="annoris-files"><table><thead><tr><th>Action</th><th>Path</th><th>Reason</th>'
            "<th>Repaired from</th></tr></thead><tbody>{}</tbody></table>{}</div>",
            body,
            note,
        )

    @staticmethod
    def _path_link(path_: str, session_pk: Any) -> str:
        if session_pk is None:
            return format_html("<code>{}</code>", path_)
        url = reverse("admin:sessions_app_session_change", args=[session_pk])
        return format_html('<a href="{}"><code>{}</code></a>', url, path_)

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> Any:
        """The list; while a sync is queued or running, it reloads itself until the sync ends."""
        following = SyncLog.objects.filter(status__in=[SyncLog.Status.QUEUED, SyncLog.Status.RUNNING])
        context = {"sync_in_progress": following.exists(), **(extra_context or {})}
        return super().changelist_view(request, extra_context=context)

    def get_urls(self) -> list[URLPattern]:
        sync_now = self.admin_site.admin_view(require_POST(self.sync_now))
        return [path("sync-now/", sync_now, name="sync_app_synclog_sync_now"), *super().get_urls()]

    def sync_now(self, request: HttpRequest) -> HttpResponseRedirect:
        """The changelist's "Sync now" button: queue a sync (it coalesces with a running one)."""
        if not request.user.is_superuser:
            raise PermissionDenied
        try:
            sync_request(trigger=SyncLog.Source.MANUAL)
        except Exception as exc:  # the queue (database) refused: say so, do not 500
            self.message_user(request, f"Could not queue a sync: {type(exc).__name__}", messages.ERROR)
        else:
            self.message_user(
                request, "Sync queued; this page follows its log until it finishes.", messages.SUCCESS
            )
        return HttpResponseRedirect(reverse("admin:sync_app_synclog_changelist"))


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyAdmin):
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


class SessionAdmin(sessions_admin.SessionAdmin):
    """The session admin, with the sync runs that touched the file on its page."""

    def sync_actions(self, obj: Session) -> list[dict[str, Any]]:
        history = file_history(obj.github_path)
        for entry in history:
            entry["log_url"] = reverse("admin:sync_app_synclog_change", args=[entry["log"].pk])
        return history


class ProjectAdmin(projects_admin.ProjectAdmin):
    """The project admin, its open next steps found by the next-steps service (the one the API
    and the assistant use): ``Next`` fields, "Next" sections and ``- [ ]`` items that no later
    session closed."""

    def sessions_context(self, project: Project) -> dict[str, Any]:
        context = super().sessions_context(project)
        context["open_next_steps"] = [
            self.next_step(step.text, step.session_id, step.session_title, step.session_created_at)
            for step in project_next_steps(project)
        ]
        return context


admin.site.unregister(Session)
admin.site.register(Session, SessionAdmin)
admin.site.unregister(Project)
admin.site.register(Project, ProjectAdmin)
