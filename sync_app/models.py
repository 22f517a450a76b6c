"""Records of syncs with the repository, and the one-sync-at-a-time claim."""

from __future__ import annotations

import uuid

from django.db import models


class SyncLog(models.Model):
    """One sync run, written for every run including failed ones."""

    class Source(models.TextChoices):
        WEBHOOK = "webhook", "Webhook"
        SCHEDULE = "schedule", "Schedule"
        MANUAL = "manual", "Manual"
        API = "api", "API"

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"  # requested (API, "Sync now"); the worker's run fills it in
        COALESCED = "coalesced", "Coalesced"  # requested while another run went; that one covered it
        RUNNING = "running", "Running"
        SUCCESS = "success", "Success"
        PARTIAL = "partial", "Partial"
        FAILED = "failed", "Failed"
        INTERRUPTED = "interrupted", "Interrupted"  # its process died; closed by the next run

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    synced_at = models.DateTimeField(db_index=True, help_text="When the run started.")
    finished_at = models.DateTimeField(null=True, blank=True)
    source = models.CharField(max_length=50, choices=Source.choices)
    files_synced = models.IntegerField(default=0, help_text="Files added, updated, deleted or restored.")
    errors = models.IntegerField(default=0)
    status = models.CharField(max_length=50, choices=Status.choices, default=Status.RUNNING)
    revision = models.CharField(max_length=40, blank=True, help_text="Commit the run synced to.")
    details = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-synced_at"]
        verbose_name = "sync log"

    def __str__(self) -> str:
        return f"{self.get_source_display()} sync at {self.synced_at:%Y-%m-%d %H:%M} UTC ({self.status})"


class SyncState(models.Model):
    """A single row (pk=1): which run is going, what is queued behind it, source state.

    ``running_since`` and ``running_log`` are for display only: who may sync is decided by
    ``sync_app.lock.SyncLock``, a lock that dies with its holder, so a killed run never
    leaves a claim behind. ``pending_trigger`` is a trigger that arrived while a run held
    the lock; the next run to take the lock consumes it.
    """

    id = models.PositiveSmallIntegerField(primary_key=True, default=1, editable=False)
    running_since = models.DateTimeField(null=True, blank=True, help_text="When the current run started.")
    running_log = models.ForeignKey(
        SyncLog, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    pending_trigger = models.CharField(
        max_length=50, blank=True, help_text="A trigger that arrived during a run; the next run covers it."
    )
    last_revision = models.CharField(max_length=40, blank=True)
    source_state = models.JSONField(default=dict, blank=True, help_text="ETags and the last listing.")
    failed_files = models.JSONField(default=dict, blank=True, help_text="path -> {sha, error} of bad files.")

    class Meta:
        verbose_name = "sync state"

    def __str__(self) -> str:
        return "running" if self.running_since else "idle"


class WebhookDelivery(models.Model):
    """One GitHub webhook delivery, by ``X-GitHub-Delivery``, so a delivery is handled once.

    A redelivery keeps its id (GitHub's manual redelivery), so an id already accepted
    (queued, done or ignored) is only acknowledged, while one that failed is processed again.
    """

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        IGNORED = "ignored", "Ignored"
        FAILED = "failed", "Failed"
        DONE = "done", "Done"

    delivery_id = models.CharField(max_length=100, unique=True, help_text="X-GitHub-Delivery (a GUID).")
    event = models.CharField(max_length=100, help_text="X-GitHub-Event, e.g. push.")
    ref = models.CharField(max_length=255, blank=True, help_text="The pushed ref, e.g. refs/heads/main.")
    after = models.CharField(max_length=40, blank=True, help_text="The commit the push moved the ref to.")
    received_at = models.DateTimeField(db_index=True, help_text="When it was last accepted.")
    status = models.CharField(max_length=20, choices=Status.choices, db_index=True)
    attempts = models.PositiveIntegerField(default=1, help_text="Times it was received and processed.")
    sync_log = models.ForeignKey(
        SyncLog, null=True, blank=True, on_delete=models.SET_NULL, related_name="webhook_deliveries"
    )
    error = models.TextField(blank=True, help_text="Why it failed or was ignored.")

    class Meta:
        ordering = ["-received_at"]
        verbose_name = "webhook delivery"
        verbose_name_plural = "webhook deliveries"

    def __str__(self) -> str:
        return f"{self.event} {self.delivery_id} ({self.status})"
