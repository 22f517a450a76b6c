"""Admin for projects: status, priority, revenue progress and how many sessions."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest
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

    def get_queryset(self, request: HttpRequest) -> QuerySet[Project]:
        live = Q(sessions__deleted_at__isnull=True)
        return super().get_queryset(request).annotate(session_total=Count("sessions", filter=live))

    @admin.display(description="sessions", ordering="session_total")
    def session_count(self, obj: Project) -> str:
        url = reverse("admin:sessions_app_session_changelist") + f"?project__id__exact={obj.pk}"
        return format_html('<a href="{}">{}</a>', url, obj.session_total)

    @admin.display(description="revenue")
    def revenue(self, obj: Project) -> str:
        if obj.target_revenue is None:
            return "—"
        return f"{obj.current_revenue or 0:,.2f} / {obj.target_revenue:,.2f}"

    @admin.display(description="progress")
    def progress(self, obj: Project) -> str:
        fraction = obj.revenue_progress
        if fraction is None:
            return "—"
        percent = max(0, min(100, round(fraction * 100)))
        return format_html(
            '<progress value="{}" max="100" title="{}%"></progress> {}%', percent, percent, percent
        )
