"""Writes to the sync records: the log of each run and the one-at-a-time claim."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from django.db import DatabaseError, IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from sync_app.models import SyncLog, SyncState, WebhookDelivery

logger = logging.getLogger(__name__)

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
    webhook_deliveries_settle(log=log)
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


def sync_abandon(*, claim: datetime) -> None:
    """Give the claim back after a run died; best effort (the claim goes stale if this fails too).

    A trigger that was waiting for a follow-up is dropped with it: the schedule
    picks the change up.
    """
    try:
        SyncState.objects.filter(pk=1, running_since=claim).update(
            running_since=None, running_log=None, pending_trigger=""
        )
    except DatabaseError:
        logger.warning("could not give back the sync claim; it expires after %s", STALE_CLAIM)


def sync_save_source_state(*, source_state: dict, failed_files: dict, revision: str | None) -> None:
    fields: dict[str, Any] = {"source_state": source_state, "failed_files": failed_files}
    if revision:
        fields["last_revision"] = revision
    SyncState.objects.filter(pk=1).update(**fields)


# -- webhook deliveries ------------------------------------------------------------

_SETTLED = {
    SyncLog.Status.SUCCESS: WebhookDelivery.Status.DONE,
    SyncLog.Status.PARTIAL: WebhookDelivery.Status.DONE,  # the push was synced; file errors are in the log
    SyncLog.Status.FAILED: WebhookDelivery.Status.FAILED,
}


def webhook_delivery_record(
    *, delivery_id: str, event: str, ref: str, after: str, status: str, error: str = ""
) -> tuple[WebhookDelivery, bool]:
    """Record a delivery; returns ``(delivery, fresh)``.

    ``fresh`` is False when the id was accepted before (queued, done or ignored): the
    caller acknowledges it and does nothing. A delivery that failed before, or one
    queued longer than STALE_CLAIM ago (its task was lost), is taken over and fresh.
    Concurrent redeliveries of one id: exactly one of them gets ``fresh=True``.
    """
    now = timezone.now()
    values = {"event": event, "ref": ref, "after": after, "status": status, "error": error}
    values.update(received_at=now, sync_log=None)
    try:
        with transaction.atomic():
            return WebhookDelivery.objects.create(delivery_id=delivery_id, **values), True
    except IntegrityError:
        pass  # seen before: retry it only if it never got through
    retry = Q(status=WebhookDelivery.Status.FAILED)
    retry |= Q(status=WebhookDelivery.Status.QUEUED, received_at__lt=now - STALE_CLAIM)
    taken = WebhookDelivery.objects.filter(retry, delivery_id=delivery_id).update(
        attempts=F("attempts") + 1, **values
    )
    return WebhookDelivery.objects.get(delivery_id=delivery_id), taken == 1


def webhook_delivery_fail(*, delivery_id: str, error: str) -> None:
    """Mark a delivery failed (its sync could not be queued or run), so a redelivery runs it."""
    not_done = WebhookDelivery.objects.filter(delivery_id=delivery_id).exclude(
        status=WebhookDelivery.Status.DONE
    )
    not_done.update(status=WebhookDelivery.Status.FAILED, error=error[:2000])


def webhook_deliveries_settle(*, log: SyncLog) -> int:
    """Close the deliveries this finished run covered; returns how many.

    A delivery received before the run started announced a push that the run's
    listing saw, so the run's outcome is the delivery's: a failed run fails the
    queued ones; a successful run also closes earlier failed ones as done (their push
    is in the database now, so a redelivery need not run again). Deliveries received
    during a run (coalesced) are settled by the follow-up run.
    """
    status = _SETTLED.get(log.status)
    if status is None:
        return 0
    covered = WebhookDelivery.objects.filter(received_at__lte=log.synced_at)
    if status == WebhookDelivery.Status.FAILED:
        error = str(log.details.get("error", ""))[:2000]
        return covered.filter(status=WebhookDelivery.Status.QUEUED).update(
            status=status, sync_log=log, error=error
        )
    open_ = [WebhookDelivery.Status.QUEUED, WebhookDelivery.Status.FAILED]
    return covered.filter(status__in=open_).update(status=status, sync_log=log, error="")


def sync_enqueue(*, trigger: str, **task_kwargs: Any) -> str:
    """Queue a sync in django-q2 (the admin's "Sync now", the webhook); returns the task id."""
    from django_q.tasks import async_task

    return async_task("sync_app.tasks.sync_sessions", trigger=trigger, **task_kwargs)
