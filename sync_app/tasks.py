"""django-q2 tasks: one-line wrappers around the engine."""

from __future__ import annotations

from sync_app.engine import run_sync


def sync_sessions(trigger: str = "schedule") -> dict | None:
    """Run a sync; if one is running, ask it to run once more (coalescing) and return None."""
    result = run_sync(trigger=trigger, if_busy="queue")
    return None if result is None else {"log_id": result.log_id, "status": result.status, **result.counts}
