"""The django-q2 schedule that keeps Annoris in step even when a webhook is missed.

GitHub never retries a failed delivery by itself, so the schedule is the safety
net. It is declared here and written idempotently by ``manage.py setup_schedule``
(the Procfile's release step), keyed on a stable name.
"""

from __future__ import annotations

from django.conf import settings
from django.utils import timezone
from django_q.models import Schedule

SYNC_SCHEDULE_NAME = "annoris.sync_sessions"


def ensure_sync_schedule() -> tuple[Schedule | None, str]:
    """Create, update or (when SYNC_SCHEDULE is 0) remove the sync schedule; returns it and what was done."""
    minutes = settings.SYNC_SCHEDULE
    if minutes <= 0:
        deleted, _ = Schedule.objects.filter(name=SYNC_SCHEDULE_NAME).delete()
        return None, "removed" if deleted else "disabled"
    schedule, created = Schedule.objects.update_or_create(
        name=SYNC_SCHEDULE_NAME,
        defaults={
            "func": "sync_app.tasks.sync_sessions",
            "kwargs": "trigger='schedule'",
            "schedule_type": Schedule.MINUTES,
            "minutes": minutes,
            "repeats": -1,
        },
    )
    now = timezone.now()
    if schedule.next_run is None or schedule.next_run < now:
        # Due while no worker ran (a second `make run`): the worker runs it once when it starts
        # (catch_up is off), so "now" is the truth, not a time in the past.
        schedule.next_run = now
        schedule.save(update_fields=["next_run"])
    return schedule, "created" if created else "updated"
