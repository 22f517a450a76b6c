"""manage.py rotate_keys: re-encrypt all session content under the first key."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from annoris.encryption import primary_key_id
from sessions_app.search import reindex_all
from sessions_app.services import sessions_rotate_keys


class Command(BaseCommand):
    help = (
        "Re-encrypt every session under the first key of ANNORIS_ENCRYPTION_KEYS, in committed batches. "
        "Safe to interrupt and run again. Run it after putting a new key first; once it reports "
        "nothing left under the old key, remove that key."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch-size", type=int, default=500, help="Rows per transaction (default 500).")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["batch_size"] < 1:
            raise CommandError("--batch-size must be at least 1")
        report = sessions_rotate_keys(
            batch_size=options["batch_size"],
            progress=lambda n: self.stdout.write(f"  re-encrypted {n} so far", ending="\r"),
        )
        sources = (
            ", ".join(f"{count} from {key}" for key, count in sorted(report.from_keys.items())) or "none"
        )
        self.stdout.write(
            f"Re-encrypted {report.rotated} session(s) under key {primary_key_id()!r} ({sources})."
        )
        self.stdout.write(f"Re-indexed {reindex_all(stale_only=True)[0]} session(s) for search.")
        for session_id, error in report.failed.items():
            self.stderr.write(f"could not re-encrypt session {session_id}: {error}")
        if report.failed:
            raise CommandError(
                f"{len(report.failed)} session(s) could not be decrypted with any configured key: "
                "put the missing key back in ANNORIS_ENCRYPTION_KEYS and run again, or re-read them "
                "from the repository with `manage.py sync_github --full`"
            )
