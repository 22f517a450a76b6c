"""manage.py rotate_keys: re-encrypt all session content under the first key."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from annoris.encryption import primary_key_id
from sessions_app.rotation import RotationReport, sessions_rotate_keys
from sessions_app.search import reindex_all, rotate_vectors


class Command(BaseCommand):
    help = (
        "Re-encrypt every session under the first key of ANNORIS_ENCRYPTION_KEYS, in committed batches. "
        "Safe to interrupt and run again. Run it after putting a new key first. At the end it reads "
        "every row back and exits non-zero, naming the count, if any does not decrypt under the first "
        "key; only after it reports 'Verified' remove the old key."
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
        primary = primary_key_id()
        sources = (
            ", ".join(f"{count} from {key}" for key, count in sorted(report.from_keys.items())) or "none"
        )
        self.stdout.write(f"Re-encrypted {report.rotated} session(s) under key {primary!r} ({sources}).")
        self.stdout.write(f"Re-indexed {reindex_all(stale_only=True)[0]} session(s) for search.")
        self.stdout.write(f"Re-encrypted {rotate_vectors()} search vector(s).")
        for session_id, error in report.failed.items():
            self.stderr.write(f"could not re-encrypt session {session_id}: {error}")
        if report.verified:
            self.stdout.write(f"Verified: all {report.checked} session(s) decrypt under key {primary!r}.")
            return
        for key_id, count in sorted(report.unverified.items()):
            self.stderr.write(
                f"  {count} session(s) under key id {key_id!r}: {self._why(key_id, primary, report)}"
            )
        bad = sum(report.unverified.values())
        raise CommandError(
            f"{bad} of {report.checked} session(s) do not decrypt under the primary key {primary!r}; "
            "do not remove any old key yet. Put the key each of them was written with back in "
            "ANNORIS_ENCRYPTION_KEYS under its own id and run again, or re-read them from the "
            "repository with `manage.py sync_github --full`"
        )

    @staticmethod
    def _why(key_id: str, primary: str, report: RotationReport) -> str:
        if key_id in report.reused:
            return (
                f"the key configured as {key_id!r} does not decrypt them: a different key reuses the id "
                f"{key_id!r} (or the rows were tampered with)"
            )
        if key_id == "(not ciphertext)":
            return "the column holds no Annoris ciphertext"
        return f"no key with id {key_id!r} is configured"
