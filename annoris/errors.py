"""Errors shared by settings and the command line."""

from __future__ import annotations

from django.core.exceptions import ImproperlyConfigured


class ConfigurationError(ImproperlyConfigured):
    """A missing or malformed environment variable; manage.py prints it as one line."""
