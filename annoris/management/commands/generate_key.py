"""manage.py generate_key: print a new entry for ANNORIS_ENCRYPTION_KEYS."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from annoris import crypto


class Command(BaseCommand):
    help = (
        "Print a new AES-256 key as '<key id>:<base64>' for ANNORIS_ENCRYPTION_KEYS. To rotate, put it "
        "first in the list, run `manage.py rotate_keys`, then remove the old key. Nothing is stored."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--id", dest="key_id", help="Key id (default: k<YYYYMMDD>).")

    def handle(self, *args: Any, **options: Any) -> None:
        key_id = options["key_id"] or timezone.now().strftime("k%Y%m%d")
        try:
            self.stdout.write(crypto.generate_key(key_id))
        except crypto.KeyringError as exc:
            raise CommandError(str(exc)) from None
