"""What people do with the outbox (the admin's retry and discard, ``manage.py outbox``) and
what /health and drift report of it."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import Count, Min, Q
from django.utils import timezone

from sessions_app.models import PendingWrite
from sessions_app.writes.outbox import OPEN, kick, wake_at


def outbox_retry(entries: list[PendingWrite]) -> int:
    """Try these entries again now. A conflict is retried over the version GitHub was found at
    (``remote_sha``): the kept content replaces it, unless the file changed yet again."""
    now = timezone.now()
    count = 0
    with transaction.atomic():
        for entry in entries:
            if entry.status == PendingWrite.Status.CONFLICT:
                base = entry.remote_sha or None
                if entry.operation == PendingWrite.Operation.DELETE and base is None:
                    base = entry.base_sha  # nothing there: the delete will find it gone and land
                fields = {"base_sha": base, "remote_sha": "", "operation": _retried_operation(entry, base)}
            elif entry.status == PendingWrite.Status.PENDING:
                fields = {}
            else:
                continue
            count += PendingWrite.objects.filter(pk=entry.pk, status=entry.status).update(
                status=PendingWrite.Status.PENDING,
                next_attempt_at=now,
                claimed_until=None,
                updated_at=now,
                **fields,
            )
        if count:
            wake_at(now)
            transaction.on_commit(kick)
    return count


def _retried_operation(entry: PendingWrite, base: str | None) -> str:
    if entry.operation == PendingWrite.Operation.DELETE:
        return entry.operation
    return PendingWrite.Operation.CREATE if base is None else PendingWrite.Operation.UPDATE


def outbox_make_due() -> int:
    """Make every pending entry due now (an operator's "try now"); conflicts are left alone."""
    now = timezone.now()
    return PendingWrite.objects.filter(status=PendingWrite.Status.PENDING).update(next_attempt_at=now)


def outbox_discard(entries: list[PendingWrite]) -> int:
    """Give up these entries (pending or conflict); their content stays in the row, for the record."""
    ids = [e.pk for e in entries]
    return PendingWrite.objects.filter(pk__in=ids, status__in=OPEN).update(
        status=PendingWrite.Status.DISCARDED, claimed_until=None, updated_at=timezone.now()
    )


def outbox_counts() -> dict[str, Any]:
    """Open entries by status, and the age of the oldest pending one (seconds): one query."""
    pending, conflict = Q(status=PendingWrite.Status.PENDING), Q(status=PendingWrite.Status.CONFLICT)
    found = PendingWrite.objects.aggregate(
        pending=Count("id", filter=pending),
        conflict=Count("id", filter=conflict),
        oldest=Min("created_at", filter=pending),
    )
    report: dict[str, Any] = {"pending": found["pending"], "conflict": found["conflict"]}
    if found["oldest"] is not None:
        report["oldest_pending_seconds"] = round((timezone.now() - found["oldest"]).total_seconds())
    return report
