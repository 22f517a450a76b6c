"""manage.py api_token create|list|revoke: API tokens for scripts and the assistant."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from annoris.api import tokens
from annoris.models import ApiToken


class Command(BaseCommand):
    help = (
        "Create, list or revoke API tokens. A token is shown once, when it is created; only its "
        "hash is stored. Send it as 'Authorization: Bearer <token>'. Read tokens may GET; write "
        "tokens may also create, change and delete."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True, metavar="{create,list,revoke}")
        create = sub.add_parser("create", help="Create a token and print it (once).")
        create.add_argument("name", help="Who or what will use it, e.g. 'claude laptop'.")
        create.add_argument(
            "--scope", choices=[s.value for s in ApiToken.Scope], default="read", help="Default: read."
        )
        create.add_argument("--expires-in-days", type=int, metavar="DAYS", help="Default: never expires.")
        lister = sub.add_parser("list", help="List tokens (never their secrets).")
        lister.add_argument("--all", action="store_true", help="Include revoked and expired tokens.")
        revoke = sub.add_parser("revoke", help="Revoke tokens by id or name.")
        revoke.add_argument("tokens", nargs="+", metavar="ID_OR_NAME", help="A token's id or its exact name.")

    def handle(self, *args: Any, **options: Any) -> None:
        getattr(self, f"_{options['action']}")(**options)

    def _create(self, *, name: str, scope: str, expires_in_days: int | None, **_: Any) -> None:
        name = name.strip()
        if not name or len(name) > 100:
            raise CommandError("The name must be 1 to 100 characters.")
        if expires_in_days is not None and expires_in_days < 1:
            raise CommandError("--expires-in-days must be at least 1.")
        expires = timezone.now() + timedelta(days=expires_in_days) if expires_in_days else None
        row, secret = tokens.issue(name=name, scope=scope, expires_at=expires)
        self.stdout.write(
            f"Created token {row.pk} '{row.name}' ({row.scope}), expires {_when(row.expires_at)}."
        )
        self.stdout.write("Copy it now; it is not stored and will not be shown again:")
        self.stdout.write(secret)

    def _list(self, *, all: bool, **_: Any) -> None:  # noqa: A002 - the flag's name
        rows = ApiToken.objects.all() if all else ApiToken.objects.active()
        for row in rows:
            state = "revoked" if row.revoked_at else ("active" if row.is_active else "expired")
            self.stdout.write(
                f"{row.pk:>5}  {row.name:<30} {row.scope:<5}  {row.prefix}…  {state:<7}  "
                f"created {_when(row.created_at)}  last used {_when(row.last_used_at)}  "
                f"expires {_when(row.expires_at)}"
            )
        if not rows:
            self.stdout.write("No tokens." if all else "No active tokens (--all shows the others).")

    def _revoke(self, *, tokens: list[str], **_: Any) -> None:
        from annoris.api import tokens as token_api

        for ref in tokens:
            rows = list(
                ApiToken.objects.filter(pk=int(ref)) if ref.isdigit() else ApiToken.objects.filter(name=ref)
            )
            if not rows:
                raise CommandError(f"No token with id or name {ref!r}.")
            for row in rows:
                token_api.revoke(row)
                self.stdout.write(f"Revoked token {row.pk} '{row.name}'.")


def _when(moment: Any) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC") if moment else "never"
