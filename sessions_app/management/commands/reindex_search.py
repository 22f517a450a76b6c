"""manage.py reindex_search: rebuild the blind search index from the database."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from sessions_app.search import BULK_MIN, reindex_all


class Command(BaseCommand):
    help = (
        "Rebuild the search index of every session from its decrypted content, a batch per "
        "transaction. Run it after upgrading the tokenizer or the model; rotate_keys runs it for "
        "sessions indexed under an old key. Safe to interrupt and run again."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--batch-size", type=int, default=200, help="Sessions per transaction (default 200)."
        )
        parser.add_argument(
            "--stale-only",
            action="store_true",
            help="Only sessions not yet indexed under the current primary key.",
        )
        parser.add_argument(
            "--bulk-min",
            type=int,
            default=BULK_MIN,
            help=f"Into an empty index (PostgreSQL), at least this many sessions build the postings' "
            f"term index once at the end instead of row by row (default {BULK_MIN}).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["batch_size"] < 1:
            raise CommandError("--batch-size must be at least 1")
        done, failed = reindex_all(
            batch_size=options["batch_size"],
            stale_only=options["stale_only"],
            bulk_min=options["bulk_min"],
            progress=lambda n: self.stdout.write(f"  indexed {n} so far", ending="\r"),
        )
        self.stdout.write(f"Indexed {done} session(s) for search.")
        for session_id in failed:
            self.stderr.write(f"could not index session {session_id}: it cannot be decrypted")
        if failed:
            raise CommandError(f"{len(failed)} session(s) could not be decrypted and are not searchable")
