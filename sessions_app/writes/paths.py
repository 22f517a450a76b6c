"""Where a new session document goes: the layout the repository already uses for its project
(learnt from the files mirrored, ``new_session_path``), else ``SESSIONS_PATH_PATTERN``, or a path
the client names.

Every path is checked the same way: relative, ``/``-separated, no empty, ``.`` or ``..``
segment, no hidden segment, no control characters, at most 500 characters (the column),
and matching ``SESSIONS_GLOB``, so the next sync reads back what was written.
"""

from __future__ import annotations

import posixpath
import re
import unicodedata
from collections import Counter
from datetime import date

from django.conf import settings
from django.utils.text import slugify

from annoris.sources.base import matches_glob
from projects_app.selectors import ProjectNotFound, find_project, project_key
from sessions_app.models import Session
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


# How many of the newest files a layout is learnt from, and a dated file name: "2025-10-24-keys.md".
LAYOUT_SAMPLE = 50
_DATED_NAME = re.compile(r"^(\d{4}-\d{2}-\d{2})([-_ ]?)(.*?)(\.[A-Za-z0-9]+)$")


def new_session_path(*, project: str | None, day: date, title: str) -> str:
    """Where a new session goes when the request names no path: the layout of the project's own
    files in the repository (``annoris/2025-10-24-keys.md`` -> ``annoris/{date}-{slug}.md``), else
    the layout other projects' files share with ``{project}`` for their folder, else
    ``SESSIONS_PATH_PATTERN``."""
    pattern = learnt_pattern(project)
    if pattern is not None:
        try:
            return path_from_pattern(project=project, day=day, title=title, pattern=pattern)
        except InvalidDocument:
            pass  # a layout the configured glob refuses: the configured pattern decides
    return path_from_pattern(project=project, day=day, title=title)


def learnt_pattern(project: str | None) -> str | None:
    """The most common layout among the newest live files of ``project`` (its folder kept as
    written), or of any project whose folder is its name; None when no dated file shows one."""
    found = None
    if project:
        try:
            found = find_project(project)
        except ProjectNotFound:
            found = None
    if found is not None:
        own = _newest_paths(Session.objects.live().filter(project=found))
        layouts = Counter(p for p in (_layout(path, None) for path, _ in own) if p)
        if layouts:
            return layouts.most_common(1)[0][0]
    others = _newest_paths(Session.objects.live().filter(project__isnull=False))
    layouts = Counter(p for p in (_layout(path, name) for path, name in others) if p and "{project}" in p)
    return layouts.most_common(1)[0][0] if layouts else None


def _newest_paths(queryset: object) -> list[tuple[str, str]]:
    rows = queryset.order_by("-created_at").values_list("github_path", "project__name")  # type: ignore[attr-defined]
    return list(rows[:LAYOUT_SAMPLE])


def _layout(path: str, project_name: str | None) -> str | None:
    """``folder/{date}<sep>{slug}<ext>`` for a dated file name; with ``project_name``, a last
    folder that is that project's name becomes ``{project}`` (and the layout needs one)."""
    folder, name = posixpath.split(path)
    match = _DATED_NAME.match(name)
    if match is None or not match.group(3):
        return None
    parts = [part.replace("{", "{{").replace("}", "}}") for part in folder.split("/") if part]
    if project_name is not None:
        if not parts or project_key(parts[-1]) != project_key(slug(project_name, default="")):
            return None
        parts[-1] = "{project}"
    _, separator, _, extension = match.groups()
    return "/".join([*parts, f"{{date}}{separator}{{slug}}{extension}"])


def path_from_pattern(*, project: str | None, day: date, title: str, pattern: str | None = None) -> str:
    """The path ``pattern`` (default ``SESSIONS_PATH_PATTERN``) gives; an empty ``{project}`` drops
    its folder."""
    pattern = pattern or settings.SESSIONS_PATH_PATTERN
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
