"""When the outbox drain runs: the django-q2 schedule that wakes it no later than the next
entry is due (committed with the entry, so a lost task is not a lost write), a best-effort
kick to run it now, and the backoff between one entry's tries."""

from __future__ import annotations

import logging
import random
from datetime import datetime

from django.conf import settings

logger = logging.getLogger("sessions_app.writes.outbox")  # the outbox's log, as before the split


SCHEDULE_NAME = "annoris.outbox_drain"
TASK = "sync_app.tasks.outbox_drain"


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
