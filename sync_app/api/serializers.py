"""API shapes of sync runs."""

from __future__ import annotations

from rest_framework import serializers

from sync_app.models import SyncLog


class SyncLogSerializer(serializers.ModelSerializer):
    """One sync run: when, why, what it did (``details``: per-file actions, errors, API calls)."""

    url = serializers.HyperlinkedIdentityField(view_name="sync-detail")

    class Meta:
        model = SyncLog
        fields = [
            "id", "synced_at", "finished_at", "source", "status", "files_synced", "errors", "revision",
            "details", "url",
        ]  # fmt: skip
        read_only_fields = fields


class SyncLogSummarySerializer(SyncLogSerializer):
    """A sync run without its per-file details (the list)."""

    class Meta(SyncLogSerializer.Meta):
        fields = [f for f in SyncLogSerializer.Meta.fields if f != "details"]
        read_only_fields = fields


class SyncQueuedSerializer(serializers.Serializer):
    """The answer to POST /api/sync/."""

    detail = serializers.CharField()
    coalesced = serializers.BooleanField(help_text="A sync was running; it will run once more instead.")
    task_id = serializers.CharField(help_text="The django-q2 task that runs the sync.")
    sync_log = serializers.UUIDField(
        allow_null=True,
        help_text="The SyncLog to follow (GET sync_log_url): this request's own, created at once with "
        "status `queued` and filled in by the worker's run (`running`, then `success`, `partial` or "
        "`failed`; `coalesced` if another run covered it), or the running run's when coalesced.",
    )
    sync_log_url = serializers.URLField(allow_null=True)
