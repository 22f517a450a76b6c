"""manage.py sync_github: bring the database in step with the session source."""

from __future__ import annotations

import json
import signal
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from sync_app.engine import SyncAlreadyRunning, run_sync
from sync_app.result import SyncResult

SUMMARY_KEYS = ("added", "updated", "restored", "unchanged", "deleted", "failed")


class Command(BaseCommand):
    help = (
        "Sync session documents from SESSIONS_SOURCE (GitHub or a local folder) into the database. "
        "Only new or changed files are read. Run it after deploying, or whenever the schedule or "
        "webhook may have missed a change. A run that would delete more than SYNC_MAX_DELETE_RATIO of the "
        "sessions deletes nothing unless --allow-deletes is given. "
        "Exits 1 when files failed, 2 when the sync could not run."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--dry-run", action="store_true", help="Show what would change; read and write nothing."
        )
        parser.add_argument("--full", action="store_true", help="Re-read every file, not only changed ones.")
        parser.add_argument("--json", action="store_true", help="Print the result as JSON (for scripts).")
        parser.add_argument(
            "--allow-deletes",
            action="store_true",
            help="Let this run delete more than SYNC_MAX_DELETE_RATIO of the live sessions (or all of them).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        show_progress = not options["json"] and sys.stderr.isatty()
        # SIGTERM (a deploy, `kill`) ends the run the way Ctrl-C does: its log is closed as
        # interrupted and the lock given back. A SIGKILL cannot be caught; the lock dies
        # with the process all the same, and the next run closes the log.
        previous = signal.signal(signal.SIGTERM, _terminate)
        try:
            result = run_sync(
                trigger="manual",
                full=options["full"],
                dry_run=options["dry_run"],
                progress=self._progress if show_progress else None,
                allow_deletes=options["allow_deletes"],
            )
        except SyncAlreadyRunning as exc:
            raise CommandError(str(exc), returncode=2) from None
        finally:
            signal.signal(signal.SIGTERM, previous)
        assert result is not None  # "raise" mode never queues
        if show_progress:
            sys.stderr.write("\n")
        if options["json"]:
            self.stdout.write(json.dumps(_as_json(result), ensure_ascii=False, indent=2))
        else:
            self._print_summary(result)
        if result.error:
            raise CommandError(f"sync failed: {result.error}", returncode=2)
        if result.counts["failed"]:
            raise CommandError(f"{result.counts['failed']} file(s) failed; see the sync log", returncode=1)

    def _progress(self, done: int, total: int) -> None:
        width = 30
        filled = int(width * done / total) if total else width
        sys.stderr.write(f"\rsyncing [{'#' * filled}{'.' * (width - filled)}] {done}/{total}")
        sys.stderr.flush()

    def _print_summary(self, result: SyncResult) -> None:
        for entry in result.errors:
            self.stderr.write(f"failed  {entry['path']}: {entry['error']}")
        for entry in result.skipped:
            self.stderr.write(f"skipped {entry['path']}: {entry['reason']}")
        counts = " / ".join(f"{result.counts[key]} {key}" for key in SUMMARY_KEYS)
        prefix = "Dry run: would sync" if result.dry_run else "Synced"
        self.stdout.write(
            f"{prefix}: {counts}"
            + (f" ({result.counts['repaired']} repaired)" if result.counts["repaired"] else "")
        )
        stats = result.stats
        if "api_calls" in stats:
            left = stats.get("rate_limit_remaining")
            left_text = "unknown" if left is None else left
            self.stdout.write(f"GitHub API calls: {stats['api_calls']}; rate limit left: {left_text}")
        if not result.dry_run:
            revision = f" at {result.revision[:12]}" if result.revision else ""
            self.stdout.write(
                f"Sync log {result.log_id}{revision}: {result.status} in {result.duration_ms} ms"
            )


def _terminate(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)


def _as_json(result: SyncResult) -> dict[str, Any]:
    return {
        "status": result.status,
        "dry_run": result.dry_run,
        "log_id": result.log_id,
        **result.as_details(),
    }
