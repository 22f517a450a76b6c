"""API shapes of projects."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.apps import apps
from django.db.models import Count, OuterRef, Q, QuerySet, Subquery
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.validators import UniqueValidator

from annoris.text import NUL, SURROGATE, unstorable
from projects_app.models import Project


def with_session_stats(queryset: QuerySet[Project]) -> QuerySet[Project]:
    """Annotate ``session_count`` (live) and the newest live session's id, title and date."""
    # By name, not import: sessions_app depends on projects_app, never the other way round.
    session_model = apps.get_model("sessions_app", "Session")
    newest = session_model.objects.filter(project=OuterRef("pk"), deleted_at__isnull=True).order_by(
        "-created_at"
    )
    return queryset.annotate(
        session_count=Count("sessions", filter=Q(sessions__deleted_at__isnull=True)),
        last_session_id=Subquery(newest.values("id")[:1]),
        last_session_title=Subquery(newest.values("title")[:1]),
        last_session_at=Subquery(newest.values("created_at")[:1]),
    )


class LastSessionSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    title = serializers.CharField()
    created_at = serializers.DateTimeField()


class ProjectSerializer(serializers.ModelSerializer):
    """A project with its session count, newest session and revenue gap (target - current)."""

    name = serializers.CharField(
        max_length=255,
        validators=[UniqueValidator(queryset=Project.objects.all(), lookup="iexact")],
    )
    session_count = serializers.IntegerField(read_only=True, help_text="Live sessions.")
    last_session = serializers.SerializerMethodField()
    revenue_gap = serializers.SerializerMethodField()
    url = serializers.HyperlinkedIdentityField(view_name="project-detail")
    sessions_url = serializers.HyperlinkedIdentityField(
        view_name="project-sessions", lookup_url_kwarg="project_id"
    )

    class Meta:
        model = Project
        fields = [
            "id", "name", "status", "priority", "target_revenue", "current_revenue", "revenue_gap",
            "session_count", "last_session", "last_updated", "url", "sessions_url",
        ]  # fmt: skip
        read_only_fields = ["id", "last_updated"]
        extra_kwargs = {
            "target_revenue": {"min_value": Decimal("0")},
            "current_revenue": {"min_value": Decimal("0")},
            "priority": {"min_value": -1_000_000, "max_value": 1_000_000},
        }

    def validate_name(self, value: str) -> str:
        value = value.strip()
        if not value:
            raise serializers.ValidationError("A project needs a name.")
        why = unstorable(value)
        if why == NUL:
            raise serializers.ValidationError("The name contains a NUL byte.")
        if why == SURROGATE:
            raise serializers.ValidationError("The name is not valid Unicode text (lone surrogate).")
        return value

    @extend_schema_field(LastSessionSerializer(allow_null=True))
    def get_last_session(self, obj: Project) -> dict[str, Any] | None:
        if getattr(obj, "last_session_id", None) is None:
            return None
        return LastSessionSerializer(
            {"id": obj.last_session_id, "title": obj.last_session_title, "created_at": obj.last_session_at}
        ).data

    @extend_schema_field(serializers.DecimalField(max_digits=11, decimal_places=2, allow_null=True))
    def get_revenue_gap(self, obj: Project) -> str | None:
        """How much revenue is still missing to reach the target (negative: over it); null without one."""
        if obj.target_revenue is None:
            return None
        return f"{obj.target_revenue - (obj.current_revenue or Decimal(0)):.2f}"
