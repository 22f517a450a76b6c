"""manage.py ensure_admin: a local admin login for trying Annoris out."""

from __future__ import annotations

import secrets
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser


class Command(BaseCommand):
    help = (
        "Create a superuser for local use and print its login once. An existing user is left as it "
        "is (its password is never reset): the command says how to set one. "
        "Refuses when DEBUG is off: in production create users with `createsuperuser`."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--username", default="admin", help="Username (default: admin).")

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG:
            raise CommandError("ensure_admin is for local development; use createsuperuser with DEBUG off")
        username = options["username"]
        users = get_user_model().objects
        if users.filter(username=username).exists():
            self.stdout.write(
                f"Admin login: user {username!r} exists; its password is unchanged. "
                f"Forgot it? `.venv/bin/python manage.py changepassword {username}`"
            )
            return
        password = secrets.token_urlsafe(12)
        users.create_superuser(username=username, email="", password=password)
        self.stdout.write(f"Created admin login  user: {username}  password: {password}  (shown once)")
