"""What the sync logs say about files: one log's per-file rows, one file's sync history.

Read-only helpers for the admin; the logs keep up to ``MAX_FILE_LINES`` files per run.
"""

from __future__ import annotations

import re
from typing import Any

from django.db import connection
from django.db.models import Q

from sync_app.models import SyncLog

# Logs read when the database cannot search inside JSON (SQLite): the newest ones.
HISTORY_SCAN = 200
_CODEPAGE = re.compile(r"read as ([^,]+)")


def repaired_from(notes: list[str]) -> str:
    """The code page a mojibake repair undid ("Mac Roman"), or "" when there was none."""
    for note in notes:
        if match := _CODEPAGE.search(note):
            return match.group(1).strip()
    return ""


def file_rows(log: SyncLog) -> list[dict[str, Any]]:
    """One row per file the run touched or failed on: action, path, reason, repaired from."""
    rows = [
        {
            "action": entry.get("action", ""),
            "path": entry.get("path", ""),
            "reason": "; ".join(entry.get("repairs", [])),
            "repaired_from": repaired_from(entry.get("repairs", [])),
        }
        for entry in log.details.get("files", [])
    ]
    rows += [
        {
            "action": "failed",
            "path": entry.get("path", ""),
            "reason": entry.get("error", ""),
            "repaired_from": "",
        }
        for entry in log.details.get("errors", [])
    ]
    return rows


def file_history(path: str, *, limit: int = 20) -> list[dict[str, Any]]:
    """The runs that added, changed, deleted, restored or failed on ``path``, newest first."""
    logs = SyncLog.objects.order_by("-synced_at")
    if connection.features.supports_json_field_contains:
        logs = logs.filter(
            Q(details__files__contains=[{"path": path}]) | Q(details__errors__contains=[{"path": path}])
        )[:limit]
    else:
        logs = logs[:HISTORY_SCAN]
    history: list[dict[str, Any]] = []
    for log in logs:
        for row in file_rows(log):
            if row["path"] == path:
                history.append(
                    {
                        "log": log,
                        "synced_at": log.synced_at,
                        "source": log.get_source_display(),
                        "revision": log.revision,
                        "action": row["action"],
                        "note": row["reason"],
                    }
                )
        if len(history) >= limit:
            break
    return history[:limit]
