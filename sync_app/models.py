"""Records of syncs with the repository, and the one-sync-at-a-time claim."""

from __future__ import annotations

import uuid

from django.db import models

from annoris.fields import CiphertextField


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


class PendingWrite(models.Model):
    """The outbox: an API write accepted while GitHub could not take it, kept until it lands.

    Entries of one path land in ``id`` order; a later one waits while an earlier one is
    pending or in conflict. ``content`` is the new document, encrypted like a session's
    (empty for a delete). ``base_sha`` is the blob SHA the write replaces (None: the path
    must not exist); a file found at any other SHA stops the entry as a conflict.
    """

    class Operation(models.TextChoices):
        CREATE = "create", "Create"
        UPDATE = "update", "Update"
        DELETE = "delete", "Delete"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        LANDED = "landed", "Landed"
        CONFLICT = "conflict", "Conflict"
        DISCARDED = "discarded", "Discarded"

    operation = models.CharField(max_length=10, choices=Operation.choices)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING, db_index=True)
    path = models.CharField(max_length=500, db_index=True)
    session_id = models.UUIDField(help_text="The session the write creates, changes or deletes.")
    content = CiphertextField(blank=True, help_text="AES-256-GCM ciphertext of the new document.")
    content_sha = models.CharField(
        max_length=40, blank=True, help_text="Blob SHA of the new document (empty for a delete)."
    )
    base_sha = models.CharField(
        max_length=40, null=True, blank=True, help_text="Blob SHA the write replaces; empty: a new file."
    )
    message = models.CharField(max_length=300, help_text="The commit message.")
    requested_by = models.CharField(max_length=150, blank=True)
    created_at = models.DateTimeField(db_index=True)
    updated_at = models.DateTimeField()
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(db_index=True)
    claimed_until = models.DateTimeField(
        null=True,
        blank=True,
        help_text="A worker is trying it until then (a lease; a dead worker's expires).",
    )
    last_error = models.TextField(blank=True)
    remote_sha = models.CharField(
        max_length=40,
        blank=True,
        help_text="On a conflict: the blob SHA GitHub holds instead (empty: no file).",
    )
    landed_at = models.DateTimeField(null=True, blank=True)
    landed_sha = models.CharField(max_length=40, blank=True)
    landed_commit = models.CharField(max_length=40, blank=True)

    class Meta:
        ordering = ["id"]
        verbose_name = "pending write"
        indexes = [models.Index(fields=["path", "status", "id"], name="pendingwrite_path_status")]

    def __str__(self) -> str:
        return f"{self.get_operation_display()} {self.path} ({self.status})"


class IdempotencyKey(models.Model):
    """An ``Idempotency-Key`` a client sent with a write, and the answer it got.

    Unique per (owner, key), so two concurrent requests with one key cannot both run:
    the second finds the first's row. ``response_status`` is null while the first runs.
    """

    owner = models.CharField(max_length=150, help_text="Who sent it: the token or user.")
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64, help_text="SHA-256 of the method, path and body.")
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField(db_index=True)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.JSONField(null=True, blank=True)
    response_headers = models.JSONField(default=dict, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["owner", "key"], name="idempotency_owner_key")]
        verbose_name = "idempotency key"

    def __str__(self) -> str:
        return f"{self.owner}: {self.key}"
