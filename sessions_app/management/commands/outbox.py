"""manage.py outbox: what waits for GitHub, and a drain by hand."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from sessions_app.models import PendingWrite
from sessions_app.writes import outbox_counts, outbox_drain
from sessions_app.writes.outbox import outbox_make_due


class Command(BaseCommand):
    help = (
        "Show the outbox of API writes not yet accepted by GitHub (pending and conflicts), or try "
        "them now with --drain. Conflicts are resolved in the admin (Pending writes: retry or discard). "
        "Exits 1 when entries are left pending or in conflict."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--drain", action="store_true", help="Try every due entry now.")
        parser.add_argument(
            "--seconds",
            type=float,
            default=0.0,
            help="With --drain: keep retrying this long (default: one pass).",
        )
        parser.add_argument("--json", action="store_true", help="Print the result as JSON (for scripts).")

    def handle(self, *args: Any, **options: Any) -> None:
        report: dict[str, Any] = {}
        if options["drain"]:
            outbox_make_due()
            report["drain"] = outbox_drain(seconds=max(options["seconds"], 0.0)).as_dict()
        report["outbox"] = outbox_counts()
        if options["json"]:
            self.stdout.write(json.dumps(report))
        else:
            if "drain" in report:
                self.stdout.write("drained: " + ", ".join(f"{k} {v}" for k, v in report["drain"].items()))
            self.stdout.write(
                f"pending {report['outbox']['pending']}, conflict {report['outbox']['conflict']}"
            )
            for entry in PendingWrite.objects.filter(status__in=["pending", "conflict"]).order_by("id")[:50]:
                self.stdout.write(
                    f"  #{entry.pk} {entry.status:8} {entry.operation:6} {entry.path}  "
                    f"attempts {entry.attempts}  {entry.last_error[:100]}"
                )
        if report["outbox"]["pending"] or report["outbox"]["conflict"]:
            raise SystemExit(1)
