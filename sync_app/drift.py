"""How far the database is from the source right now: the drift report (issue #8).

One listing of the source, taken with the ETag state the last sync saved, so GitHub
answers with at most 2 calls (the branch, then the tree only when it changed, conditional
on its ETag). The listing is compared with the session rows by path and blob SHA; the
saved state is not updated, so the next sync still sees every change.
"""

from __future__ import annotations

import copy
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

from annoris.sources import get_source
from annoris.sources.base import Source, SourceError
from annoris.timestamps import iso
from sessions_app import readpath
from sessions_app.models import Session
from sessions_app.writes import outbox_counts
from sync_app import services
from sync_app.models import SyncLog

__all__ = ["DriftReport", "drift_report", "drift_summary", "outbox_entries_not_landed"]

MAX_LISTED = 100  # paths listed per kind; the counts are always complete
_SUMMARY_KEY = "annoris:drift:last-summary"
_SUMMARY_TTL = 24 * 3600


@dataclass
class DriftReport:
    """The drift between the database and the source at ``checked_at``.

    ``changed``: live sessions whose stored blob SHA differs from the source's;
    ``not_synced``: source files with no live session row; ``gone``: live rows whose file
    is no longer in the source; ``outbox_pending``: accepted writes not yet landed;
    ``last_sync_age_seconds``: since the last successful sync finished (None: never).
    The lists hold at most MAX_LISTED entries each; ``counts`` are complete. ``error``
    says why the source could not be listed (the source counts are then None).
    """

    checked_at: datetime
    source: str
    revision: str | None = None
    changed: list[dict[str, str]] = field(default_factory=list)
    not_synced: list[dict[str, str]] = field(default_factory=list)
    gone: list[dict[str, str]] = field(default_factory=list)
    counts: dict[str, int | None] = field(default_factory=dict)
    outbox_pending: int | None = 0  # None: the database could not say
    last_sync_at: datetime | None = None
    last_sync_age_seconds: int | None = None
    source_calls: int | None = None
    error: str | None = None

    @property
    def in_sync(self) -> bool:
        return self.error is None and not any(self.counts.get(k) for k in ("changed", "not_synced", "gone"))

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["in_sync"] = self.in_sync
        data["checked_at"] = iso(self.checked_at)
        data["last_sync_at"] = iso(self.last_sync_at)
        return data

    def summary(self) -> dict[str, Any]:
        """The counts /health shows."""
        return {
            "checked_at": iso(self.checked_at),
            "in_sync": self.in_sync,
            **self.counts,
            "outbox_pending": self.outbox_pending,
            "last_sync_age_seconds": self.last_sync_age_seconds,
            **({"error": self.error} if self.error else {}),
        }


def outbox_entries_not_landed() -> int | None:
    """Accepted writes not yet in the source: waiting in the outbox, or stopped as conflicts
    (None while the database cannot answer: /health must still answer)."""
    counts = readpath.call_database(outbox_counts)
    if counts is readpath.DOWN:
        return None
    return counts["pending"] + counts["conflict"]


def drift_report(*, source: Source | None = None) -> DriftReport:
    """Compare the database with the source now (at most 2 GitHub calls); see DriftReport.

    A source that cannot be listed (GitHub down, rate-limited) gives a report with
    ``error`` set and the database-only parts filled in; it never raises SourceError.
    """
    source = source or _request_source()
    report = DriftReport(checked_at=timezone.now(), source=getattr(source, "repository", ""))
    report.outbox_pending = outbox_entries_not_landed()
    _last_sync(report)
    state = getattr(source, "state", None)
    if isinstance(state, dict):
        state.update(copy.deepcopy(services.sync_state().source_state))
    calls_before = _calls(source)
    try:
        listing = source.list_files()
    except SourceError as exc:
        report.error = str(exc) or type(exc).__name__
        report.counts = {"changed": None, "not_synced": None, "gone": None}
        report.source_calls = _calls_since(source, calls_before)
        _remember(report)
        return report
    report.source_calls = _calls_since(source, calls_before)
    report.revision = listing.revision
    known = {
        path: (str(sid), sha)
        for sid, path, sha in Session.objects.live()
        .values_list("id", "github_path", "github_sha")
        .iterator(chunk_size=5000)
    }
    listed = set()
    changed, not_synced = [], []
    for item in listing.files:
        listed.add(item.path)
        row = known.get(item.path)
        if row is None:
            not_synced.append({"path": item.path, "source_sha": item.sha})
        elif row[1] != item.sha:
            changed.append({"path": item.path, "id": row[0], "stored_sha": row[1], "source_sha": item.sha})
    gone = [{"path": path, "id": sid} for path, (sid, _) in sorted(known.items()) if path not in listed]
    report.counts = {"changed": len(changed), "not_synced": len(not_synced), "gone": len(gone)}
    report.changed = sorted(changed, key=lambda d: d["path"])[:MAX_LISTED]
    report.not_synced = sorted(not_synced, key=lambda d: d["path"])[:MAX_LISTED]
    report.gone = gone[:MAX_LISTED]
    _remember(report)
    return report


def drift_summary() -> dict[str, Any]:
    """The last report's counts for /health (no source call here): ``{"status": "not checked"}``
    until ``GET /api/sync/drift/`` or ``drift_report()`` has run, with the outbox count live.
    """
    try:
        summary = cache.get(_SUMMARY_KEY)
    except Exception:  # the cache is advisory here; /health must answer
        summary = None
    if not summary:
        return {"status": "not checked", "outbox_pending": outbox_entries_not_landed()}
    return {"status": "ok" if summary.get("in_sync") else "drift", **summary}


def _request_source() -> Source:
    """The configured source with the read path's short timeouts and no retry: 2 calls at most."""
    timeout = settings.ANNORIS_SOURCE_TIMEOUT
    options = {"timeout": (min(timeout, 1.0), timeout), "max_retries": 0, "max_wait": timeout, "backoff": 0.1}
    return get_source(client_options=options)


def _remember(report: DriftReport) -> None:
    try:
        cache.set(_SUMMARY_KEY, report.summary(), _SUMMARY_TTL)
    except Exception:  # a cache outage must not fail the report
        pass


def _last_sync(report: DriftReport) -> None:
    log = (
        SyncLog.objects.filter(status__in=[SyncLog.Status.SUCCESS, SyncLog.Status.PARTIAL])
        .order_by("-synced_at")
        .first()
    )
    if log is not None:
        report.last_sync_at = log.finished_at or log.synced_at
        report.last_sync_age_seconds = round((report.checked_at - report.last_sync_at).total_seconds())


def _calls(source: Source) -> int | None:
    usage = getattr(source, "usage", None)
    return usage()["api_calls"] if callable(usage) else None


def _calls_since(source: Source, before: int | None) -> int | None:
    after = _calls(source)
    return None if before is None or after is None else after - before
