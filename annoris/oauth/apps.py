"""App config: the OAuth server's own models (connections) and admin."""

from __future__ import annotations

import logging

from django.apps import AppConfig

# oauthlib and DOT log authorization codes and redirect URLs carrying them at DEBUG. A code is
# a credential for up to a minute, so these loggers never go below INFO, whatever LOG_LEVEL says.
QUIETED_LOGGERS = ("oauthlib", "oauth2_provider")


class OAuthConfig(AppConfig):
    name = "annoris.oauth"
    label = "annoris_oauth"
    verbose_name = "Connected apps"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from annoris.oauth import schema  # noqa: F401  (registers the scheme with drf-spectacular)

        for name in QUIETED_LOGGERS:
            logger = logging.getLogger(name)
            if logger.level < logging.INFO:  # NOTSET included: a DEBUG root must not reach them
                logger.setLevel(logging.INFO)
