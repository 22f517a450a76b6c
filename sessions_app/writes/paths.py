"""Where a new session document goes: ``SESSIONS_PATH_PATTERN``, or a path the client names.

Every path is checked the same way: relative, ``/``-separated, no empty, ``.`` or ``..``
segment, no hidden segment, no control characters, at most 500 characters (the column),
and matching ``SESSIONS_GLOB``, so the next sync reads back what was written.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date

from django.conf import settings
from django.utils.text import slugify

from annoris.sources.base import matches_glob
from sessions_app.writes.errors import InvalidDocument

MAX_PATH_LENGTH = 500  # Session.github_path
_PLACEHOLDERS = re.compile(r"\{(\w*)\}")
_KNOWN = {"project", "date", "year", "month", "day", "slug"}


def slug(text: str, *, max_length: int | None = None, default: str = "session") -> str:
    """ASCII words joined by ``-``, at most ``max_length`` characters, never empty."""
    limit = max_length or settings.SESSIONS_SLUG_MAX_LENGTH
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    value = slugify(ascii_text)[:limit].strip("-_")
    return value or default


def path_from_pattern(*, project: str | None, day: date, title: str) -> str:
    """The path ``SESSIONS_PATH_PATTERN`` gives; an empty ``{project}`` drops its folder."""
    pattern = settings.SESSIONS_PATH_PATTERN
    unknown = set(_PLACEHOLDERS.findall(pattern)) - _KNOWN
    if unknown:
        raise InvalidDocument(
            f"SESSIONS_PATH_PATTERN uses unknown placeholders {sorted(unknown)}; known: {sorted(_KNOWN)}"
        )
    values = {
        "project": slug(project, default="") if project else "",
        "date": day.isoformat(),
        "year": f"{day.year:04d}",
        "month": f"{day.month:02d}",
        "day": f"{day.day:02d}",
        "slug": slug(title),
    }
    path = "/".join(part for part in pattern.format(**values).split("/") if part)
    return check_path(path, field="SESSIONS_PATH_PATTERN")


def check_path(path: str, *, field: str = "path") -> str:
    """``path`` if it is a safe repository path matching SESSIONS_GLOB; InvalidDocument if not."""
    problem = _problem(path)
    if problem is None and not matches_glob(path, settings.SESSIONS_GLOB):
        problem = f"must match SESSIONS_GLOB ({settings.SESSIONS_GLOB})"
    if problem:
        raise InvalidDocument(f"Invalid path: {problem}.", errors={field: [f"The path {problem}."]})
    return path


def _problem(path: str) -> str | None:
    if not path:
        return "is empty"
    if len(path) > MAX_PATH_LENGTH:
        return f"is longer than {MAX_PATH_LENGTH} characters"
    if path.startswith("/") or "\\" in path:
        return "must be relative and use '/' between folders"
    if any(unicodedata.category(ch) in ("Cc", "Cf", "Cs") for ch in path):
        return "contains control characters"
    for segment in path.split("/"):
        if segment in ("", ".", ".."):
            return "has an empty, '.' or '..' segment"
        if segment.startswith("."):
            return "has a hidden ('.') segment"
        if segment != segment.strip():
            return "has a segment that starts or ends with a space"
    return None
