"""Turn the raw bytes of a session document into a ``ParsedDocument``.

Every field is looked up in order of preference: YAML front matter, then bold field lines
(``**Date:** October 20, 2025 (Evening)``), then the path (a date in the file name, the
project folder), then the source's history for the date (``history_date``: a local file's
mtime), then a default (``fallback_date``, which marks the session undated; the file stem
as title). The content
is stored byte-faithfully: only a leading BOM and mis-decoded text are changed, and each
such change is recorded in ``repairs``.
"""

from __future__ import annotations

import itertools
import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import PurePosixPath
from typing import Any

from .dates import DateOutOfRange, date_from_filename, parse_human_date, time_written, to_utc
from .encoding import repair_mojibake
from .errors import MAX_DOCUMENT_BYTES, DocumentError
from .fields import bold_fields, clean_title, front_matter, project_from_path, title_headings
from .state import derive_state

__all__ = ["ParsedDocument", "decode_document", "parse_document"]

STATUS_MAX_LENGTH = 100
PRIORITY_MAX_LENGTH = 50
TITLE_MAX_LENGTH = 255
_BOM = "\ufeff"
# Share of control bytes (other than tab, newlines, form feed, escape) above which a
# file is binary even without a NUL byte. Real text has next to none.
_BINARY_CONTROL_RATIO = 0.05
_SNIFF_BYTES = 8192
_CONTROL_BYTES = bytes(sorted(frozenset(range(0x20)) - {0x09, 0x0A, 0x0C, 0x0D, 0x1B} | {0x7F}))


@dataclass(frozen=True)
class ParsedDocument:
    """A session document's fields, each taken from the most preferred place it appears.

    ``created_at`` is aware UTC and ``date_source`` says where it came from:
    ``'front_matter'``, ``'field'`` (a bold ``**Date:**`` line), ``'path'`` (the file
    name), ``'history'`` (the source's history) or ``'fallback'`` (``undated``).
    ``title`` is plain words: markdown removed and emoji trimmed from its ends
    ("# 🚀 REDIS STRATEGY" gives "REDIS STRATEGY"). ``status`` and
    ``priority`` are ``''`` when absent and truncated to 100 and 50 characters; ``state``
    is derived from the status (done, in_progress, blocked, planned or unknown).
    ``project`` is None when neither the text nor the path names one. ``content`` is the
    whole text including front matter, exactly as written except for the ``repairs``.
    """

    session_id: uuid.UUID | None
    title: str
    created_at: datetime
    date_source: str
    status: str
    state: str
    priority: str
    project: str | None
    next: str
    content: str
    repairs: tuple[str, ...]
    front_matter: dict[str, Any]
    # The time of day as the winning date gave it ("Evening", "14:30"); "" when it gave a day only.
    created_time: str = ""

    @property
    def undated(self) -> bool:
        """No date anywhere: ``created_at`` is only when it was first seen."""
        return self.date_source == "fallback"


def parse_document(
    raw: bytes, *, path: str, fallback_date: datetime, history_date: datetime | None = None
) -> ParsedDocument:
    """Parse one session file; ``path`` is its path in the repository.

    Raises ``DocumentError`` (one-line message) for a file over ``MAX_DOCUMENT_BYTES``,
    a binary file, invalid UTF-8, front matter that is not a YAML mapping or breaks one of
    the bounds of ``fields.front_matter`` (size, anchors and aliases, depth, values, time,
    NUL or lone surrogates), an ``id`` that is not a UUID, or a date that has no UTC
    equivalent. An unparseable date is not an error: the next source is used.
    A naive ``fallback_date`` is taken as UTC.
    """
    text, repairs = decode_document(raw)
    meta, body = front_matter(text)
    lookup = _Fields({str(key).strip().lower(): value for key, value in meta.items()}, bold_fields(body))
    created_at, date_source = _created_at(lookup, path, fallback_date, history_date)
    status = _truncated("status", lookup.get("status") or "", STATUS_MAX_LENGTH, repairs)
    priority = _truncated("priority", lookup.get("priority") or "", PRIORITY_MAX_LENGTH, repairs)
    written_dates = {"front_matter": lookup.front_matter.get("date"), "field": lookup.bold.get("date")}
    return ParsedDocument(
        session_id=_session_id(lookup.front_matter.get("id")),
        title=_title(lookup, body, path),
        created_at=created_at,
        date_source=date_source,
        status=status,
        state=derive_state(status),
        priority=priority,
        project=lookup.get("project") or project_from_path(path),
        next=lookup.get("next") or "",
        content=text,
        repairs=tuple(repairs),
        front_matter=meta,
        created_time=time_written(written_dates.get(date_source)),
    )


def decode_document(raw: bytes) -> tuple[str, list[str]]:
    """The text of ``raw`` with BOM removed and mojibake repaired, and notes of both.

    Raises ``DocumentError`` for files that are too large, binary or not UTF-8.
    """
    if len(raw) > MAX_DOCUMENT_BYTES:
        raise DocumentError(f"file too large ({len(raw)} bytes, limit {MAX_DOCUMENT_BYTES})")
    if _looks_binary(raw):
        raise DocumentError("binary file")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise DocumentError(f"not valid UTF-8 at byte {error.start}") from None
    repairs: list[str] = []
    if text.startswith(_BOM):
        text = text[1:]
        repairs.append("removed UTF-8 byte-order mark")
    text, note = repair_mojibake(text)
    if note:
        repairs.append(note)
        if text.startswith(_BOM):  # a BOM that was itself mis-decoded
            text = text[1:]
            repairs.append("removed UTF-8 byte-order mark")
    return text, repairs


def _looks_binary(raw: bytes) -> bool:
    """True for a NUL byte anywhere, or mostly control bytes at the start."""
    if b"\0" in raw:
        return True
    sample = raw[:_SNIFF_BYTES]
    controls = len(sample) - len(sample.translate(None, _CONTROL_BYTES))  # counted in C
    return bool(sample) and controls / len(sample) > _BINARY_CONTROL_RATIO


@dataclass(frozen=True)
class _Fields:
    """Field lookup across front matter (preferred) and bold field lines."""

    front_matter: dict[str, Any]
    bold: dict[str, str]

    def get(self, key: str) -> str | None:
        """The stripped value of ``key`` from the first place that has a non-empty one."""
        value = self.front_matter.get(key)
        if value is not None and str(value).strip():
            return str(value).strip()
        return self.bold.get(key)


def _created_at(
    fields: _Fields, path: str, fallback_date: datetime, history_date: datetime | None
) -> tuple[datetime, str]:
    """The creation time and where it came from (see ``ParsedDocument.date_source``)."""
    candidates = (("front_matter", fields.front_matter.get("date")), ("field", fields.bold.get("date")))
    for source, value in candidates:
        try:
            parsed = parse_human_date(value) if value is not None else None
        except DateOutOfRange as error:
            where = "front matter date" if source == "front_matter" else "**Date:** field"
            raise DocumentError(f"{where}: {error}") from None
        if parsed is not None:
            return parsed, source
    from_name = date_from_filename(_path(path).name)
    if from_name is not None:
        return from_name, "path"
    if history_date is not None:
        return to_utc(history_date), "history"
    return to_utc(fallback_date), "fallback"


def _session_id(value: object) -> uuid.UUID | None:
    """The front matter ``id`` as a UUID; None when absent, DocumentError when invalid."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value).strip())
    except ValueError:
        raise DocumentError(f"front matter id is not a valid UUID: {str(value)[:60]!r}") from None


def _title(fields: _Fields, body: str, path: str) -> str:
    """Front matter title, else the first title heading of ``body`` that is more than badges
    (``#``, setext or reST), else the file stem."""
    written = fields.front_matter.get("title")
    candidates = itertools.chain([str(written)] if written is not None else [], title_headings(body))
    for candidate in itertools.islice(candidates, 20):
        title = clean_title(candidate) if candidate.strip() else ""
        if title:
            return title[:TITLE_MAX_LENGTH]
    return _path(path).stem[:TITLE_MAX_LENGTH]


def _truncated(name: str, value: str, limit: int, repairs: list[str]) -> str:
    """``value`` cut to ``limit`` characters, noting the cut in ``repairs``."""
    if len(value) <= limit:
        return value
    repairs.append(f"{name} truncated to {limit} characters")
    return value[:limit].rstrip()


def _path(path: str) -> PurePosixPath:
    """``path`` as a POSIX path, accepting Windows separators."""
    return PurePosixPath(path.replace("\\", "/"))
