"""Asking for a sync from outside the engine (the API): queue it, coalescing with a running one."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sync_app.models import SyncLog, SyncState
from sync_app.services import sync_enqueue


@dataclass(frozen=True)
class SyncRequested:
    task_id: str
    coalesced: bool  # a run was going: the engine runs it once more when it ends
    log_id: uuid.UUID | None  # the running run's log, or the finished run's when the queue ran it at once


def sync_request(*, trigger: str = SyncLog.Source.API) -> SyncRequested:
    """Queue a sync in django-q2 (the task coalesces with a running sync: ``if_busy="queue"``)."""
    from django_q.tasks import result

    running = SyncState.objects.filter(pk=1, running_since__isnull=False).values_list(
        "running_log_id", flat=True
    )
    running_log = next(iter(running), None)
    coalesced = bool(running)
    task_id = sync_enqueue(trigger=trigger)
    if coalesced:
        return SyncRequested(task_id, True, running_log)
    finished = result(task_id)  # only there already when the queue runs tasks inline (Q_SYNC)
    log_id = finished.get("log_id") if isinstance(finished, dict) else None
    return SyncRequested(task_id, False, uuid.UUID(str(log_id)) if log_id else None)
