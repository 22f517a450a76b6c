"""The daily purge of expired OAuth grants, codes and tokens, written by ``setup_schedule``."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone
from django_q.models import Schedule

PURGE_SCHEDULE_NAME = "annoris.oauth_purge"


def ensure_purge_schedule() -> tuple[Schedule, str]:
    schedule, created = Schedule.objects.update_or_create(
        name=PURGE_SCHEDULE_NAME,
        defaults={"func": "annoris.oauth.tasks.purge_oauth", "schedule_type": Schedule.HOURLY, "repeats": -1},
        create_defaults={  # first run an hour after the deploy, not in the release's rush
            "func": "annoris.oauth.tasks.purge_oauth",
            "schedule_type": Schedule.HOURLY,
            "repeats": -1,
            "next_run": timezone.now() + timedelta(hours=1),
        },
    )
    return schedule, "created" if created else "updated"
