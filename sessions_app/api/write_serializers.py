"""Request and response shapes of session writes (the read shapes live in sessions_app)."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from sessions_app.api.edit_serializers import SessionEditSerializer
from sessions_app.documents import MAX_DOCUMENT_BYTES
from sessions_app.models import PendingWrite

# What the browsable API's form and raw-data tab start from: a body that creates a session as is.
EXAMPLE_DOCUMENT = (
    "# What this session did\n\n**Status:** 🔄 in progress\n\nWhat was decided, and why.\n\n"
    "## Next\n- The first thing to do next\n"
)


class SessionWriteSerializer(serializers.Serializer):
    """A session document to write (JSON, or a form with the same fields). Given fields go into
    its YAML front matter; a field sent empty (a form's blank input) is not given."""

    content = serializers.CharField(
        max_length=MAX_DOCUMENT_BYTES,
        trim_whitespace=False,
        style={"base_template": "textarea.html", "rows": 12},
        help_text="The markdown document (optionally with YAML front matter). Required to create or PUT.",
    )
    title = serializers.CharField(
        max_length=255, required=False, help_text="Written into the front matter as title."
    )
    project = serializers.CharField(
        max_length=255, required=False, help_text="The project's name (front matter: project)."
    )
    status = serializers.CharField(
        max_length=100, required=False, help_text="Free-text status, e.g. '✅ done' (front matter: status)."
    )
    priority = serializers.CharField(
        max_length=50, required=False, help_text="Free text (front matter: priority)."
    )
    date = serializers.DateField(
        required=False, help_text="The session's date, YYYY-MM-DD (front matter: date)."
    )
    path = serializers.CharField(
        max_length=500,
        required=False,
        help_text="Create only: where the file goes. Default: the layout the project's files in the "
        "repository already use (e.g. pricewise/2025-12-06-title.md), else SESSIONS_PATH_PATTERN. Must "
        "match SESSIONS_GLOB; an existing path is a 409.",
    )

    edit = SessionEditSerializer(
        required=False,
        help_text="PATCH only, and alone: one small edit (append, replace a section, check off a step) "
        "made without resending the document.",
    )

    def get_initial(self) -> dict[str, Any]:
        """The browsable API's starting point (its form and its raw-data tab): a valid body."""
        return {"content": EXAMPLE_DOCUMENT}

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if self.partial and not attrs:
            raise serializers.ValidationError("Nothing to change: send content or at least one field.")
        if "edit" in attrs and (len(attrs) > 1 or not self.partial):
            raise serializers.ValidationError("Send edit alone, with PATCH: not with content or fields.")
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
