#!/usr/bin/env python
"""Django's command-line utility for Annoris."""

from __future__ import annotations

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "annoris.settings")
    from django.core.management import execute_from_command_line

    from annoris.errors import ConfigurationError

    try:
        execute_from_command_line(sys.argv)
    except ConfigurationError as exc:
        # A configuration mistake is the operator's to fix: say it in one line.
        sys.exit(f"Annoris configuration error: {exc}")


if __name__ == "__main__":
    main()
