"""System checks for configuration (run by `manage.py check` and at start-up)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core import checks

from annoris import crypto


@checks.register(checks.Tags.security, deploy=True)
def check_encryption_keys(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """The development key is fine in DEBUG but never in a deploy."""
    if crypto.DEVELOPMENT_KEY_ID in settings.ANNORIS_KEYRING.ids and settings.ANNORIS_KEYRING.primary_id == (
        crypto.DEVELOPMENT_KEY_ID
    ):
        return [
            checks.Warning(
                "Session content is encrypted with the shipped development key.",
                hint="Set ANNORIS_ENCRYPTION_KEYS (manage.py generate_key) before storing real sessions.",
                id="annoris.W001",
            )
        ]
    return []


@checks.register()
def check_github_settings(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """GitHub as the source needs a repository and a webhook secret."""
    errors: list[checks.CheckMessage] = []
    if settings.SESSIONS_SOURCE != "github":
        return errors
    if "/" not in settings.GITHUB_REPO.strip("/"):
        errors.append(checks.Error("GITHUB_REPO must look like 'owner/name'.", id="annoris.E001"))
    if not settings.GITHUB_WEBHOOK_SECRET:
        errors.append(
            checks.Warning(
                "GITHUB_WEBHOOK_SECRET is not set: the webhook refuses every delivery (503).",
                hint="Set the same secret here and in the repository's webhook settings.",
                id="annoris.W002",
            )
        )
    return errors
