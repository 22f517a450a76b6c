"""manage.py outbox: what waits for GitHub, and a drain by hand."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from sessions_app.models import PendingWrite
from sessions_app.writes import outbox_counts, outbox_drain
from sessions_app.writes.outbox_actions import outbox_make_due


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
            help="With --drain: keep retrying what fails this long (default: every due entry once).",
        )
        parser.add_argument("--json", action="store_true", help="Print the result as JSON (for scripts).")

    def handle(self, *args: Any, **options: Any) -> None:
        report: dict[str, Any] = {}
        if options["drain"]:
            outbox_make_due()
            report["drain"] = _drain_all(max(options["seconds"], 0.0))
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


def _drain_all(seconds: float) -> dict[str, int]:
    """Drain passes while they land something: every entry due now is tried (a pass claims at
    most 50), and what fails waits for its backoff (or is retried for ``seconds`` more)."""
    total = {"landed": 0, "conflicts": 0, "retried": 0}
    while True:
        done = outbox_drain(seconds=seconds).as_dict()
        for key, value in done.items():
            total[key] += value
        if not done["landed"]:  # nothing due any more, or GitHub refuses: the schedule goes on
            return total
        seconds = 0.0  # the time to keep retrying was spent in the first pass
