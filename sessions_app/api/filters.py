"""The session list's query: filters, ordering and the cursor."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any

from django.db.models import QuerySet
from rest_framework import filters, serializers
from rest_framework.request import Request

from annoris.api.pagination import CursorPagination
from sessions_app.models import SessionState


class DateOrDateTimeField(serializers.DateTimeField):
    """An ISO 8601 date-time, or a date (midnight UTC)."""

    def to_internal_value(self, value: Any) -> Any:
        if isinstance(value, str) and len(value) == 10:
            try:
                day = date.fromisoformat(value)
            except ValueError:
                pass
            else:
                return datetime.combine(day, time.min, tzinfo=UTC)
        return super().to_internal_value(value)


class SessionFilters(serializers.Serializer):
    """Query parameters of the session list (validated: a bad value is a 400 naming it)."""

    project = serializers.CharField(required=False, max_length=255, help_text="Project id or name.")
    state = serializers.ChoiceField(choices=SessionState.choices, required=False)
    status = serializers.CharField(required=False, max_length=100, help_text="Exact status, any case.")
    priority = serializers.CharField(required=False, max_length=50, help_text="Exact priority, any case.")
    created_after = DateOrDateTimeField(required=False, help_text="ISO 8601 date or date-time; inclusive.")
    created_before = DateOrDateTimeField(required=False, help_text="ISO 8601 date or date-time; exclusive.")
    q = serializers.CharField(required=False, max_length=200, help_text="Words in the title or path.")
    deleted = serializers.BooleanField(
        required=False, default=False, help_text="Include sessions whose file left the repository."
    )


class SessionCursorPagination(CursorPagination):
    """Newest first; a cursor stays valid and skips nothing while sessions are added."""

    ordering = ("-created_at", "id")


class SessionOrdering(filters.OrderingFilter):
    ordering_fields = ["created_at", "title", "last_synced", "priority", "size"]

    def get_default_ordering(self, view: Any) -> tuple[str, ...]:
        return SessionCursorPagination.ordering

    def get_ordering(self, request: Request, queryset: QuerySet, view: Any) -> list[str]:
        ordering = list(super().get_ordering(request, queryset, view))
        return ordering if "id" in ordering or "-id" in ordering else [*ordering, "id"]
