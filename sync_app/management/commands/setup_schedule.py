"""manage.py setup_schedule: create or update the periodic sync (idempotent)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand
from django.utils import timezone

from annoris.oauth.schedules import ensure_purge_schedule
from sync_app.schedules import ensure_sync_schedule


class Command(BaseCommand):
    help = (
        "Create or update the django-q2 schedule that syncs every SYNC_SCHEDULE minutes (0 removes it). "
        "Safe to run on every deploy; the Procfile's release step does."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        schedule, action = ensure_sync_schedule()
        if schedule is None:
            self.stdout.write(f"Sync schedule {action} (SYNC_SCHEDULE=0).")
        else:
            due = schedule.next_run <= timezone.now()
            when = "as soon as a worker runs" if due else f"{schedule.next_run:%Y-%m-%d %H:%M} UTC"
            self.stdout.write(f"Sync schedule {action}: every {schedule.minutes} min, next run {when}.")
        _, action = ensure_purge_schedule()
        self.stdout.write(f"OAuth purge schedule {action}: hourly.")
