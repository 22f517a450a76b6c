"""Request and response shapes of session writes (the read shapes live in sessions_app)."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from sessions_app.documents import MAX_DOCUMENT_BYTES
from sessions_app.models import PendingWrite


class SessionWriteSerializer(serializers.Serializer):
    """A session document to write. Given fields go into its YAML front matter."""

    content = serializers.CharField(
        max_length=MAX_DOCUMENT_BYTES,
        trim_whitespace=False,
        help_text="The markdown document (optionally with YAML front matter). Required to create or PUT.",
    )
    title = serializers.CharField(
        max_length=255, required=False, help_text="Written as front matter `title`."
    )
    project = serializers.CharField(max_length=255, required=False, help_text="Project name (`project`).")
    status = serializers.CharField(
        max_length=100, required=False, help_text="Free-text status, e.g. '✅ done' (`status`)."
    )
    priority = serializers.CharField(max_length=50, required=False, help_text="Free text (`priority`).")
    date = serializers.DateField(required=False, help_text="The session's date (`date`), YYYY-MM-DD.")
    path = serializers.CharField(
        max_length=500,
        required=False,
        help_text="Create only: where the file goes. Default: SESSIONS_PATH_PATTERN "
        "(sessions/{project}/{date}_{slug}.md). Must match SESSIONS_GLOB; an existing path is a 409.",
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if self.partial and not attrs:
            raise serializers.ValidationError("Nothing to change: send content or at least one field.")
        return attrs

    def fields_to_write(self) -> dict[str, Any]:
        data = self.validated_data
        return {
            name: data[name] for name in ("title", "project", "status", "priority", "date") if name in data
        }


class OutboxEntrySerializer(serializers.ModelSerializer):
    """A write waiting in the outbox until GitHub takes it."""

    sha = serializers.CharField(
        source="content_sha", help_text="Blob SHA the file will have once it lands (empty for a delete)."
    )
    # Plain strings, not enums: "status" and "operation" enums would collide with other components.
    operation = serializers.CharField(help_text="create, update or delete.")
    status = serializers.CharField(
        help_text="pending (waiting for GitHub), landed, conflict (the file changed at GitHub; resolve it "
        "in the admin) or discarded."
    )

    class Meta:
        model = PendingWrite
        fields = [
            "id", "operation", "status", "path", "session_id", "sha", "base_sha", "attempts",
            "next_attempt_at", "last_error", "created_at",
        ]  # fmt: skip


class SessionWriteResultSerializer(serializers.Serializer):
    """What a write did: landed (``commit`` set) or queued in the outbox (``outbox`` set)."""

    id = serializers.UUIDField(source="session_id")
    path = serializers.CharField()
    sha = serializers.CharField(
        allow_null=True, help_text="Blob SHA of the file now (or once the queued write lands); the ETag."
    )
    commit = serializers.CharField(allow_null=True, help_text="The commit that holds the write (GitHub).")
    outbox = OutboxEntrySerializer(
        source="queued", allow_null=True, help_text="Set when the write was queued."
    )
