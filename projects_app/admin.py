"""Admin for projects: status, priority, revenue progress, and on a project's page its sessions.

Projects are edited here (they are not in the repository). A project's page lists its live
sessions newest first and its open next steps (``sync_app.admin`` fills them from the
next-steps service; on its own this admin shows the "Next" of the newest session and of
each session not done yet).
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.html import format_html

from projects_app.models import Project


@admin.register(Project)
class ProjectAdmin(admin.ModelAdmin):
    list_display = ("name", "status", "priority", "revenue", "progress", "session_count", "last_updated")
    list_filter = ("status",)
    list_editable = ("status", "priority")
    search_fields = ("name",)
    readonly_fields = ("id", "last_updated")
    change_form_template = "admin/projects_app/project/change_form.html"
    change_list_template = "admin/annoris/change_list.html"  # Annoris's admin.css (headers that wrap)
    # Sessions listed on a project's page (newest first); the list links to all of them.
    SESSIONS_SHOWN = 50

    def get_queryset(self, request: HttpRequest) -> QuerySet[Project]:
        live = Q(sessions__deleted_at__isnull=True)
        return super().get_queryset(request).annotate(session_total=Count("sessions", filter=live))

    @admin.display(description="sessions", ordering="session_total")
    def session_count(self, obj: Project) -> str:
        url = reverse("admin:sessions_app_session_changelist") + f"?project__id__exact={obj.pk}"
        return format_html('<a href="{}">{}</a>', url, obj.session_total)

    fieldsets = (
        (None, {"fields": ("name", "status", "priority")}),
        (
            "Revenue",
            {
                "fields": ("current_revenue", "target_revenue"),
                "description": "What the project earns now and what it aims for (leave both empty when it "
                "is not about revenue). The project list shows them as “Revenue: now / target” and "
                "“Progress to target”: now ÷ target.",
            },
        ),
        (None, {"fields": ("id", "last_updated")}),
    )

    @admin.display(description="revenue: now / target")
    def revenue(self, obj: Project) -> str:
        if obj.target_revenue is None:
            return "—"
        return f"{obj.current_revenue or 0:,.2f} / {obj.target_revenue:,.2f}"

    @admin.display(description="progress to target")
    def progress(self, obj: Project) -> str:
        fraction = obj.revenue_progress
        if fraction is None:
            return "—"
        percent = max(0, min(100, round(fraction * 100)))
        return format_html(
            '<progress value="{}" max="100" title="{}%"></progress> {}%', percent, percent, percent
        )

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: Any = None
    ) -> HttpResponse:
        context = dict(extra_context or {})
        project = self.get_object(request, object_id)
        if project is not None:
            context.update(self.sessions_context(project))
        return super().change_view(request, object_id, form_url, extra_context=context)

    def sessions_context(self, project: Project) -> dict[str, Any]:
        """Its live sessions, newest first, and its open next steps: the "Next" of the newest session
        (nothing has followed it yet) and of every session not done."""
        live = project.sessions.filter(deleted_at__isnull=True).order_by("-created_at")
        sessions = list(live.only("id", "title", "state", "status", "created_at", "created_time", "next_step")
                        [: self.SESSIONS_SHOWN])  # fmt: skip
        open_steps = [
            self.next_step(s.next_step, s.pk, s.title, s.created_at)
            for i, s in enumerate(sessions)
            if s.next_step and (i == 0 or s.state != "done")
        ]
        all_url = reverse("admin:sessions_app_session_changelist") + f"?project__id__exact={project.pk}"
        return {
            "project_sessions": sessions,
            "project_session_total": live.count(),
            "project_sessions_url": all_url,
            "open_next_steps": open_steps,
        }

    @staticmethod
    def next_step(text: str, session_id: Any, title: str, created_at: Any) -> dict[str, Any]:
        """One row of the page's "Open next steps" table."""
        url = reverse("admin:sessions_app_session_change", args=[session_id])
        return {"text": text, "session_url": url, "session_title": title, "session_created_at": created_at}
