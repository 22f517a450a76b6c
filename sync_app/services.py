"""Writes to the sync records: the log of each run and the one-at-a-time claim."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from sync_app.models import SyncLog, SyncState

# A claim older than this belongs to a worker that died mid-sync.
STALE_CLAIM = timedelta(minutes=30)


def sync_state() -> SyncState:
    state, _ = SyncState.objects.get_or_create(pk=1)
    return state


def sync_log_start(*, source: str) -> SyncLog:
    return SyncLog.objects.create(source=source, synced_at=timezone.now(), status=SyncLog.Status.RUNNING)


def sync_log_finish(
    *, log: SyncLog, status: str, files_synced: int, errors: int, revision: str, details: dict[str, Any]
) -> SyncLog:
    log.status = status
    log.files_synced = files_synced
    log.errors = errors
    log.revision = revision or ""
    log.details = details
    log.finished_at = timezone.now()
    log.save()
    return log


def sync_claim() -> datetime | None:
    """Take the sync claim; returns its timestamp (the claim token), or None if a live run holds it.

    A conditional UPDATE whose row count says who won, so two processes can
    never both believe they hold it. A claim older than STALE_CLAIM is taken over.
    """
    sync_state()
    now = timezone.now()
    free = Q(running_since__isnull=True) | Q(running_since__lt=now - STALE_CLAIM)
    if SyncState.objects.filter(free, pk=1).update(running_since=now, running_log=None) == 1:
        return now
    return None


def sync_attach_log(*, claim: datetime, log: SyncLog) -> None:
    SyncState.objects.filter(pk=1, running_since=claim).update(running_log=log)


def sync_request_followup(*, trigger: str) -> bool:
    """Ask the running sync to run once more when it ends; False if none is running."""
    return SyncState.objects.filter(pk=1, running_since__isnull=False).update(pending_trigger=trigger) == 1


@transaction.atomic
def sync_release(*, claim: datetime) -> tuple[str, datetime | None]:
    """Give up the claim, unless a trigger arrived meanwhile: then renew it.

    Returns ``(pending trigger, renewed claim)`` or ``("", None)`` once released.
    Coalescing: any number of triggers during one run become one follow-up run.
    """
    state = SyncState.objects.select_for_update().get(pk=1)
    if state.running_since != claim:
        return "", None  # the claim was taken over as stale; nothing of ours to release
    pending = state.pending_trigger
    state.pending_trigger = ""
    state.running_since = timezone.now() if pending else None
    state.running_log = None
    state.save(update_fields=["pending_trigger", "running_since", "running_log"])
    return pending, state.running_since


def sync_save_source_state(*, source_state: dict, failed_files: dict, revision: str | None) -> None:
    fields: dict[str, Any] = {"source_state": source_state, "failed_files": failed_files}
    if revision:
        fields["last_revision"] = revision
    SyncState.objects.filter(pk=1).update(**fields)
