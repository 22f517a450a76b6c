"""Deciding what a sync must do: compare a listing with the database by path and SHA."""

from __future__ import annotations

from dataclasses import dataclass, field

from annoris.sources.base import Listing, SourceFile
from sessions_app.documents import MAX_DOCUMENT_BYTES
from sessions_app.services import SessionRefused, session_check_path


@dataclass
class SyncPlan:
    """What one run will touch. Unchanged files cost nothing: they are only counted."""

    to_read: list[SourceFile] = field(default_factory=list)
    to_delete: list[str] = field(default_factory=list)
    rejected: list[tuple[SourceFile, str]] = field(default_factory=list)
    unchanged: int = 0


def plan_sync(
    listing: Listing,
    *,
    known: dict[str, tuple[str, bool]],
    failed: dict[str, dict],
    full: bool = False,
) -> SyncPlan:
    """Plan a run.

    ``known`` maps path -> (blob SHA, is deleted) for sessions in the database;
    ``failed`` maps path -> {"sha", "error"} for files that failed before: one
    still at the same SHA is reported again without being read again. A file at a
    path no session can be kept at (longer than the column, not UTF-8) is refused
    without being read.
    """
    plan = SyncPlan()
    listed = set()
    for item in listing.files:
        listed.add(item.path)
        previous = failed.get(item.path)
        if bad_path := _path_problem(item.path):
            plan.rejected.append((item, bad_path))
        elif item.size is not None and item.size > MAX_DOCUMENT_BYTES:
            plan.rejected.append((item, f"file too large ({item.size} bytes, limit {MAX_DOCUMENT_BYTES})"))
        elif previous and previous.get("sha") == item.sha and not full:
            plan.rejected.append((item, previous.get("error", "failed before")))
        elif full or known.get(item.path) != (item.sha, False):
            plan.to_read.append(item)
        else:
            plan.unchanged += 1
    plan.to_delete = sorted(
        path for path, (_, deleted) in known.items() if not deleted and path not in listed
    )
    return plan


def _path_problem(path: str) -> str:
    """Why no session can be kept at ``path`` (too long, not UTF-8, NUL), or ``""``."""
    try:
        session_check_path(path)
    except SessionRefused as exc:
        return str(exc)
    return ""
