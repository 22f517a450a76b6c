"""The outbox: writes GitHub could not take when they came, kept and retried until they land.

An entry is committed to the database before the client hears 202, together with the
django-q2 schedule that wakes the drain, so no process holds the only copy. The drain
(``outbox_drain``, a django-q2 task) takes the first open entry of each path under a lease
(a conditional UPDATE, so two workers never try one entry), tries it, and:

- it lands: the entry is marked landed and the session row written, in one transaction;
- the source is down, failing or rate limited: it is tried again later (exponential
  backoff with jitter, or the ``Retry-After``), the lease is given back;
- the file is at another SHA than the entry expects: if it is the entry's own content (an
  earlier try committed and its process died before recording it) the entry has landed;
  otherwise it stops as a conflict, nothing is overwritten, and later entries of that path
  wait until a person retries or discards it in the admin.

A worker killed mid-try leaves a lease that expires after ``ANNORIS_OUTBOX_LEASE`` seconds.
"""

from __future__ import annotations

import logging
import random
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import DatabaseError, transaction
from django.db.models import Min, Q
from django.utils import timezone

from annoris.crypto import DecryptionError
from annoris.encryption import decrypt_text, encrypt_text
from annoris.sources.base import (
    Source,
    SourceConflict,
    SourceError,
    SourceNotFound,
    SourceOutcomeUnknown,
    SourceUnavailable,
    WriteResult,
    git_blob_sha,
)
from sessions_app.models import PendingWrite
from sessions_app.writes import outcome
from sessions_app.writes.mirror import apply_to_database
from sessions_app.writes.source import remote_sha, write_source

logger = logging.getLogger(__name__)

SCHEDULE_NAME = "annoris.outbox_drain"
TASK = "sync_app.tasks.outbox_drain"
OPEN = (PendingWrite.Status.PENDING, PendingWrite.Status.CONFLICT)
_BATCH = 50


# -- accepting ----------------------------------------------------------------------------


def outbox_open_entries(path: str) -> list[PendingWrite]:
    """The entries of ``path`` not landed or discarded yet, oldest first."""
    return list(PendingWrite.objects.filter(path=path, status__in=OPEN).order_by("id"))


def outbox_enqueue(
    *,
    operation: str,
    path: str,
    session_id: uuid.UUID,
    text: str | None,
    base_sha: str | None,
    message: str,
    requested_by: str = "",
    error: str = "",
    attempted: bool = True,
    unknown: bool = False,
) -> PendingWrite:
    """Store a write durably and wake the drain after commit; ``error`` is why it could not go now,
    ``unknown`` that it was sent and never answered (it may still land)."""
    now = timezone.now()
    attempts = 1 if attempted else 0
    with transaction.atomic():
        entry = PendingWrite.objects.create(
            operation=operation,
            path=path,
            session_id=session_id,
            content=encrypt_text(text) if text is not None else "",
            content_sha=git_blob_sha(text.encode("utf-8")) if text is not None else "",
            base_sha=base_sha,
            message=message[:300],
            requested_by=requested_by[:150],
            created_at=now,
            updated_at=now,
            attempts=attempts,
            next_attempt_at=now + timedelta(seconds=backoff(attempts)) if attempted else now,
            last_error=error[:2000],
            outcome_unknown_since=now if unknown else None,
        )
        wake_at(entry.next_attempt_at)  # durable with the entry: a lost task is not a lost write
        transaction.on_commit(kick)
    return entry


def kick() -> None:
    """Queue a drain now (best effort: the schedule runs one anyway)."""
    try:
        from django_q.tasks import async_task

        async_task(TASK)
    except Exception:  # the broker is the database; if it failed, the schedule still stands
        logger.warning("could not queue an outbox drain; the schedule will run it", exc_info=True)


def wake_at(when: datetime) -> None:
    """Make the drain schedule run no later than ``when`` (created on first use, once a minute after)."""
    from django_q.models import Schedule

    updated = Schedule.objects.filter(name=SCHEDULE_NAME, next_run__gt=when).update(next_run=when)
    if updated or Schedule.objects.filter(name=SCHEDULE_NAME).exists():
        return
    Schedule.objects.create(
        name=SCHEDULE_NAME,
        func=TASK,
        schedule_type=Schedule.MINUTES,
        minutes=1,
        repeats=-1,
        next_run=when,
    )


def backoff(attempts: int) -> float:
    """Seconds before try ``attempts + 1``: exponential from ANNORIS_OUTBOX_BACKOFF, capped, +-20%."""
    base, cap = settings.ANNORIS_OUTBOX_BACKOFF, settings.ANNORIS_OUTBOX_MAX_BACKOFF
    return min(base * 2 ** max(attempts - 1, 0), cap) * random.uniform(0.8, 1.2)


# -- draining -----------------------------------------------------------------------------


@dataclass
class DrainReport:
    landed: int = 0
    conflicts: int = 0
    retried: int = 0

    def as_dict(self) -> dict[str, int]:
        return {"landed": self.landed, "conflicts": self.conflicts, "retried": self.retried}


def outbox_drain(*, seconds: float | None = None, source: Source | None = None) -> DrainReport:
    """Try every due entry; keep trying for up to ``seconds`` (ANNORIS_OUTBOX_DRAIN_SECONDS).

    What is still pending when the time is up is left to the schedule, woken for its next try.
    """
    budget = settings.ANNORIS_OUTBOX_DRAIN_SECONDS if seconds is None else seconds
    deadline = time.monotonic() + budget
    report = DrainReport()
    source = source or write_source()
    while True:
        for entry in _claim_due():
            _attempt_safely(entry, source, report)
        next_due = _next_due()
        if next_due is None:
            break
        wait = max((next_due - timezone.now()).total_seconds(), 0.0)
        if time.monotonic() + wait > deadline:
            wake_at(next_due)
            break
        time.sleep(max(wait, 0.05))
    return report


def _heads() -> Any:
    """The first open entry of each path: only it may be tried (order per path)."""
    return (
        PendingWrite.objects.filter(status__in=OPEN).values("path").annotate(first=Min("id")).values("first")
    )


def _claim_due() -> list[PendingWrite]:
    now = timezone.now()
    free = Q(claimed_until__isnull=True) | Q(claimed_until__lt=now)
    due = PendingWrite.objects.filter(
        free, id__in=_heads(), status=PendingWrite.Status.PENDING, next_attempt_at__lte=now
    ).order_by("id")
    claimed = []
    lease = now + timedelta(seconds=settings.ANNORIS_OUTBOX_LEASE)
    for entry in due[:_BATCH]:
        won = PendingWrite.objects.filter(free, pk=entry.pk, status=PendingWrite.Status.PENDING)
        if won.update(claimed_until=lease) == 1:
            entry.claimed_until = lease
            claimed.append(entry)
    return claimed


def _next_due() -> datetime | None:
    pending = PendingWrite.objects.filter(id__in=_heads(), status=PendingWrite.Status.PENDING)
    return pending.aggregate(at=Min("next_attempt_at"))["at"]


def _attempt_safely(entry: PendingWrite, source: Source, report: DrainReport) -> None:
    """One entry's failure is its own: it is recorded on the entry and the drain goes on."""
    try:
        _attempt(entry, source, report)
    except DecryptionError as exc:  # its key left the keyring: a person must look, retrying cannot help
        _stop(entry, f"The kept content cannot be decrypted with the configured keys ({exc}).")
        report.conflicts += 1
    except DatabaseError:
        raise  # the database is gone: nothing can be recorded; the lease expires, the schedule retries
    except Exception as exc:  # a bug must not wedge every write behind it
        logger.exception("outbox entry %s failed unexpectedly", entry.pk)
        _later(entry, f"{type(exc).__name__}: {exc}", settings.ANNORIS_OUTBOX_MAX_BACKOFF, report)


def _stop(entry: PendingWrite, error: str, remote: str = "") -> None:
    PendingWrite.objects.filter(pk=entry.pk).update(
        status=PendingWrite.Status.CONFLICT,
        remote_sha=remote,
        claimed_until=None,
        attempts=entry.attempts + 1,
        updated_at=timezone.now(),
        last_error=error[:2000],
    )


def _attempt(entry: PendingWrite, source: Source, report: DrainReport) -> None:
    text = decrypt_text(entry.content) if entry.content else None
    try:
        if entry.outcome_unknown_since is not None:  # never resend blind (#20 finding 2)
            settled = outcome.settle(entry, source, text)
            if isinstance(settled, WriteResult):
                _land(entry, text, settled, report)
                return
            if settled is not None:
                waiting = "the last try was not answered; waiting to see whether it lands"
                _later(entry, waiting, settled, report, unknown=entry.outcome_unknown_since)
                return
        if entry.operation == PendingWrite.Operation.UPDATE and remote_sha(source, entry.path) is None:
            # GitHub's PUT ignores ``sha`` for a path that does not exist and creates the file:
            # without this look, a file deleted at GitHub meanwhile would silently come back.
            raise SourceNotFound(f"{entry.path} was deleted at the source")
        if entry.operation == PendingWrite.Operation.DELETE:
            result = source.delete(entry.path, sha=entry.base_sha or "", message=entry.message)
        else:
            assert text is not None
            result = source.write(entry.path, text.encode("utf-8"), sha=entry.base_sha, message=entry.message)
    except (SourceConflict, SourceNotFound) as exc:
        _settle_mismatch(entry, source, text, report, exc)
    except SourceUnavailable as exc:
        unknown = timezone.now() if isinstance(exc, SourceOutcomeUnknown) else None
        _later(entry, str(exc), getattr(exc, "retry_after", None), report, unknown=unknown)
    except SourceError as exc:  # an answer retrying may not fix; keep it, retry slowly, show the error
        _later(entry, str(exc), settings.ANNORIS_OUTBOX_MAX_BACKOFF, report)
    else:
        _land(entry, text, result, report)


def _settle_mismatch(
    entry: PendingWrite, source: Source, text: str | None, report: DrainReport, exc: SourceError
) -> None:
    """The file is not at ``base_sha``: landed already, a passing race, or a real conflict."""
    try:
        remote = remote_sha(source, entry.path)
    except SourceError as read_error:
        _later(entry, f"{exc}; then reading it failed: {read_error}", None, report)
        return
    deleting = entry.operation == PendingWrite.Operation.DELETE
    if (deleting and remote is None) or (not deleting and remote == entry.content_sha):
        _land(entry, text, WriteResult(path=entry.path, sha=remote), report)  # an earlier try landed
    elif remote == entry.base_sha:
        _later(entry, str(exc), None, report)  # the branch moved under us; the file did not change
    else:
        _stop(
            entry,
            f"The file changed at the source: it is at {remote or 'nothing (deleted)'}, "
            f"this write expected {entry.base_sha or 'no file'}. Nothing was overwritten.",
            remote or "",
        )
        report.conflicts += 1
        logger.warning("outbox entry %s for %s stopped as a conflict", entry.pk, entry.path)


def _later(
    entry: PendingWrite,
    error: str,
    delay: float | None,
    report: DrainReport,
    *,
    unknown: datetime | None = None,
) -> None:
    now = timezone.now()
    attempts = entry.attempts + 1
    wait = backoff(attempts) if delay is None else max(delay, 0.0)
    PendingWrite.objects.filter(pk=entry.pk).update(
        attempts=attempts,
        next_attempt_at=now + timedelta(seconds=wait),
        claimed_until=None,
        last_error=error[:2000],
        updated_at=now,
        outcome_unknown_since=unknown,
    )
    report.retried += 1


def _land(entry: PendingWrite, text: str | None, result: WriteResult, report: DrainReport) -> None:
    now = timezone.now()
    with transaction.atomic():
        PendingWrite.objects.filter(pk=entry.pk).update(
            status=PendingWrite.Status.LANDED,
            landed_at=now,
            landed_sha=result.sha or "",
            landed_commit=result.revision or "",
            outcome_unknown_since=None,
            claimed_until=None,
            attempts=entry.attempts + 1,
            last_error="",
            updated_at=now,
        )
        apply_to_database(
            operation=entry.operation, session_id=entry.session_id, path=entry.path, text=text, sha=result.sha
        )
    report.landed += 1
