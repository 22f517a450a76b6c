"""Writes to the sync records: the log of each run, the running run and its queued trigger."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from django.db import DatabaseError, DataError, IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from sync_app.models import SyncLog, SyncState, WebhookDelivery
from sync_app.result import storable_json, storable_text

logger = logging.getLogger(__name__)

# A webhook delivery queued longer than this had its task lost; a redelivery runs it again.
STALE_CLAIM = timedelta(minutes=30)

INTERRUPTED_ERROR = "interrupted: the process running this sync died before it finished (killed or crashed)"


def sync_state() -> SyncState:
    state, _ = SyncState.objects.get_or_create(pk=1)
    return state


def sync_log_start(*, source: str) -> SyncLog:
    return SyncLog.objects.create(source=source, synced_at=timezone.now(), status=SyncLog.Status.RUNNING)


def sync_log_queue(*, source: str) -> SyncLog:
    """The log of a sync that was requested and waits for a worker (``queued``), so that the
    requester can follow it from the start; the task's run takes it over (``sync_log_take``)."""
    return SyncLog.objects.create(source=source, synced_at=timezone.now(), status=SyncLog.Status.QUEUED)


def sync_log_take(*, log_id: str | None, source: str) -> SyncLog:
    """The log a starting run writes: the queued one it was asked with (now ``running``, its
    start time the run's), else a new one."""
    if log_id:
        queued = SyncLog.objects.filter(pk=log_id, status=SyncLog.Status.QUEUED)
        if queued.update(status=SyncLog.Status.RUNNING, synced_at=timezone.now()):
            return SyncLog.objects.get(pk=log_id)
    return sync_log_start(source=source)


def sync_log_coalesce(*, log_id: str | None) -> None:
    """Close a queued log whose request another run covers (one was running or waiting)."""
    if not log_id:
        return
    SyncLog.objects.filter(pk=log_id, status=SyncLog.Status.QUEUED).update(
        status=SyncLog.Status.COALESCED,
        finished_at=timezone.now(),
        details={"note": "A sync was already running or waiting when this one started; it covered it."},
    )


def sync_log_finish(
    *, log: SyncLog, status: str, files_synced: int, errors: int, revision: str, details: dict[str, Any]
) -> SyncLog:
    """Close ``log``. Whatever ``details`` hold, the log ends closed: strings the database
    cannot store are escaped, and should the full record still be refused, a short one
    with the reason is saved instead."""
    log.status = status
    log.files_synced = files_synced
    log.errors = errors
    log.revision = storable_text(revision or "")[:40]
    log.details = storable_json(details)
    log.finished_at = timezone.now()
    try:
        with transaction.atomic():
            log.save()
    except (DataError, IntegrityError) as exc:
        logger.error("sync log %s: full details refused (%s); saving a short record", log.id, exc)
        log.details = {
            "error": storable_text(str(details.get("error", "")))[:2000],
            "details_refused": storable_text(str(exc))[:500],
        }
        log.save()
    webhook_deliveries_settle(log=log)
    return log


def sync_begin(*, log: SyncLog) -> int:
    """Start a run that holds the sync lock; returns how many dead runs' logs it closed.

    Holding the lock proves no other run is alive, so a log still ``running`` belongs to
    a process that died (SIGKILL, OOM, power): it is closed as ``interrupted``. Triggers
    queued so far are consumed, as this run lists the source after they arrived.
    """
    now = timezone.now()
    dead = SyncLog.objects.filter(status=SyncLog.Status.RUNNING).exclude(pk=log.pk)
    closed = dead.update(
        status=SyncLog.Status.INTERRUPTED, finished_at=now, errors=1, details={"error": INTERRUPTED_ERROR}
    )
    if closed:
        logger.warning("closed %d sync log(s) of runs whose process died", closed)
    sync_state()
    SyncState.objects.filter(pk=1).update(running_since=log.synced_at, running_log=log, pending_trigger="")
    return closed


def sync_end(*, log: SyncLog | None) -> None:
    """Clear the display of the running run (best effort: the lock is what counts)."""
    try:
        SyncState.objects.filter(pk=1, running_log=log).update(running_since=None, running_log=None)
    except DatabaseError:
        logger.warning("could not clear the running sync's record")


def sync_request_followup(*, trigger: str) -> None:
    """Ask for one more run: the run holding the lock (or the next one) covers ``trigger``."""
    sync_state()
    SyncState.objects.filter(pk=1).update(pending_trigger=storable_text(trigger)[:50])


def sync_take_pending() -> str:
    """The pending trigger, cleared; ``""`` when none is pending. Two callers never both get it."""
    pending = SyncState.objects.filter(pk=1).values_list("pending_trigger", flat=True).first()
    if not pending:
        return ""
    taken = SyncState.objects.filter(pk=1, pending_trigger=pending).update(pending_trigger="")
    return pending if taken == 1 else ""


def sync_pending() -> str:
    return SyncState.objects.filter(pk=1).values_list("pending_trigger", flat=True).first() or ""


def sync_save_source_state(*, source_state: dict, failed_files: dict, revision: str | None) -> None:
    fields: dict[str, Any] = {
        "source_state": storable_json(source_state),
        "failed_files": storable_json(failed_files),
    }
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


INDEX_TASK = "sync_app.tasks.index_search"
QUEUE_LOOK = 100  # queued tasks read to find an index task; a longer queue means no worker runs


def search_index_enqueue() -> str:
    """Queue the indexing of sessions the search index does not hold yet; returns the task id."""
    from django_q.tasks import async_task

    return async_task(INDEX_TASK)


def search_index_queued() -> bool:
    """Is an index task waiting for a worker (queued, not taken)? It will index whatever waits
    when it runs, so another is not needed. A task a worker has taken may have looked already."""
    from django_q.models import OrmQ

    waiting = OrmQ.objects.filter(lock__lte=timezone.now()).order_by("id")[:QUEUE_LOOK]
    return any(task.func() == INDEX_TASK for task in waiting)
