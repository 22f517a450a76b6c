"""Read shapes of sessions for the API (writes will get their own serializer)."""

from __future__ import annotations

from rest_framework import serializers

from sessions_app.models import Session


class SessionListSerializer(serializers.ModelSerializer):
    """A session without its document: what a list shows."""

    project = serializers.SerializerMethodField()
    next = serializers.CharField(source="next_step")
    path = serializers.CharField(source="github_path")
    sha = serializers.CharField(source="github_sha")

    class Meta:
        model = Session
        fields = [
            "id", "title", "project", "status", "state", "priority", "next", "created_at", "path", "sha",
            "checksum", "last_synced",
        ]  # fmt: skip

    def get_project(self, obj: Session) -> str | None:
        return obj.project.name if obj.project_id and obj.project else None


class SessionDetailSerializer(SessionListSerializer):
    """A session with its decrypted document (``content``)."""

    content = serializers.CharField(source="text")

    class Meta(SessionListSerializer.Meta):
        fields = [*SessionListSerializer.Meta.fields, "content"]
