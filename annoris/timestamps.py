"""One way to write a moment in the API, search, MCP and /health: ISO 8601 in UTC with ``Z``,
exactly as DRF's DateTimeField writes it (``2026-12-06T11:50:46.123456Z``)."""

from __future__ import annotations

from datetime import UTC, datetime


def iso(value: datetime | None) -> str | None:
    """``value`` in UTC as ISO 8601 ending in ``Z``; None stays None (naive values are UTC)."""
    if value is None:
        return None
    moment = value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
    return moment.isoformat().replace("+00:00", "Z")
