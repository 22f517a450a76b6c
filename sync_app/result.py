"""The record a sync run returns and stores in its SyncLog."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# Per-file lines kept in a SyncLog; counts stay exact beyond it.
MAX_FILE_LINES = 1000


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
    skipped: list[dict[str, str]] = field(default_factory=list)  # entries the source did not list
    stats: dict[str, Any] = field(default_factory=dict)
    duration_ms: int = 0
    log_id: str | None = None

    def record(self, path: str, action: str, **extra: Any) -> None:
        self.counts[action] += 1
        if len(self.files) < MAX_FILE_LINES:
            self.files.append({"path": path, "action": action, **extra})

    def fail(self, path: str, error: str) -> None:
        self.counts["failed"] += 1
        if len(self.errors) < MAX_FILE_LINES:
            self.errors.append({"path": path, "error": error})

    def skip(self, entries: tuple[tuple[str, str], ...]) -> None:
        """Note what the source saw but did not list (``Listing.skipped``): not a failure."""
        for path, reason in entries:
            self.counts["skipped"] += 1
            if len(self.skipped) < MAX_FILE_LINES:
                # A file name that is not UTF-8 arrives with surrogates, which JSON columns refuse.
                shown = path.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
                self.skipped.append({"path": shown, "reason": reason})

    @property
    def files_synced(self) -> int:
        return sum(self.counts[k] for k in ("added", "updated", "restored", "deleted"))

    def final_status(self) -> str:
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
            "error": self.error,
            "duration_ms": self.duration_ms,
            **self.stats,
        }
