"""Text a database column can store, checked in one place.

PostgreSQL text refuses NUL; a lone surrogate is not Unicode text (it is how a file name
that is not UTF-8 reaches Python). SQLite would take both, so the check is made here, the
same on every backend, by every caller that stores what it was given.
"""

from __future__ import annotations

import re

UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
NUL = "nul"
SURROGATE = "surrogate"


def unstorable(value: str) -> str | None:
    """Why ``value`` cannot be stored, ``NUL`` or ``SURROGATE`` (NUL first), or None when it can."""
    if UNSTORABLE.search(value) is None:
        return None
    return NUL if "\x00" in value else SURROGATE
