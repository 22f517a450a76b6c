"""Asking for a sync from outside the engine (the API, the admin's "Sync now"): queue it, with its
log made at once so the requester can follow it, or coalesce with the run that is going."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sync_app.models import SyncLog, SyncState
from sync_app.services import sync_enqueue, sync_log_queue


@dataclass(frozen=True)
class SyncRequested:
    task_id: str
    coalesced: bool  # a run was going: the engine runs it once more when it ends
    log_id: uuid.UUID | None  # the running run's log when coalesced, else this request's own log


def sync_request(*, trigger: str = SyncLog.Source.API) -> SyncRequested:
    """Queue a sync in django-q2. When no run is going, its SyncLog is created now (``queued``)
    and the task's run fills it in; when one is, the task coalesces with it (the engine runs once
    more) and the running run's log is the one to follow."""
    running = SyncState.objects.filter(pk=1, running_since__isnull=False).values_list(
        "running_log_id", flat=True
    )
    running_log = next(iter(running), None)
    if running:
        return SyncRequested(sync_enqueue(trigger=trigger), True, running_log)
    log = sync_log_queue(source=trigger)
    task_id = sync_enqueue(trigger=trigger, log_id=str(log.id))
    return SyncRequested(task_id, False, log.id)
