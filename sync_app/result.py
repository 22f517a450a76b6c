"""The record a sync run returns and stores in its SyncLog."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from annoris.text import unstorable

# Per-file lines kept in a SyncLog; counts stay exact beyond it.
MAX_FILE_LINES = 1000


def storable_text(value: str) -> str:
    """``value`` with what no column can store written out as escapes: byte 0xff of a file
    name as ``\\xff``, a lone surrogate as ``\\ud800``, NUL as ``\\x00``. Readable, and
    the same on every database backend."""
    if not unstorable(value):  # a file name that is not UTF-8 reaches Python as "\udcff" for 0xff
        return value
    try:
        text = value.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    except UnicodeEncodeError:
        text = value.encode("utf-8", "backslashreplace").decode("utf-8")
    return text.replace("\x00", "\\x00")


def storable_json(value: Any) -> Any:
    """``value`` (dicts, lists, strings, numbers: a sync record) with every string and key storable."""
    if isinstance(value, str):
        return storable_text(value)
    if isinstance(value, dict):
        return {
            storable_text(str(k)) if isinstance(k, str) else k: storable_json(v) for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [storable_json(item) for item in value]
    return value


@dataclass
class SyncResult:
    trigger: str
    dry_run: bool = False
    full: bool = False
    status: str = "running"
    revision: str = ""
    error: str = ""
    counts: dict[str, int] = field(
        default_factory=lambda: dict.fromkeys(
            ("added", "updated", "restored", "deleted", "unchanged", "failed", "repaired", "skipped"), 0
        )
    )
    files: list[dict[str, Any]] = field(default_factory=list)
    errors: list[dict[str, str]] = field(default_factory=list)
    skipped: list[dict[str, str]] = field(default_factory=list)  # entries the source left out
    stats: dict[str, Any] = field(default_factory=dict)
    duration_ms: int = 0
    log_id: str | None = None
    interrupted: bool = False  # stopped by a signal, Ctrl-C or a worker's timeout

    def record(self, path: str, action: str, **extra: Any) -> None:
        self.counts[action] += 1
        if len(self.files) < MAX_FILE_LINES:
            self.files.append({"path": storable_text(path), "action": action, **extra})

    def fail(self, path: str, error: str) -> None:
        self.counts["failed"] += 1
        if len(self.errors) < MAX_FILE_LINES:
            self.errors.append({"path": storable_text(path), "error": storable_text(error)})

    def skip(self, path: str, reason: str) -> None:
        """Note an entry the source saw but did not list (``Listing.skipped``): not a failure."""
        self.counts["skipped"] += 1
        if len(self.skipped) < MAX_FILE_LINES:
            self.skipped.append({"path": storable_text(path), "reason": storable_text(reason)})

    @property
    def files_synced(self) -> int:
        return sum(self.counts[k] for k in ("added", "updated", "restored", "deleted"))

    def final_status(self) -> str:
        if self.interrupted:
            return "interrupted"
        if self.error:
            return "failed"
        return "partial" if self.counts["failed"] else "success"

    def as_details(self) -> dict[str, Any]:
        return {
            "trigger": self.trigger,
            "full": self.full,
            "revision": self.revision,
            "counts": self.counts,
            "files": self.files,
            "errors": self.errors,
            "skipped": self.skipped,
            "error": storable_text(self.error),
            "duration_ms": self.duration_ms,
            **self.stats,
        }
