"""The database layer of the read path: one session with its project, by a unique column.

The outage-aware call is the process's one (``annoris.database``): an outage opens the
breaker and answers ``DOWN``; a data error fails only the read that met it.
"""

from __future__ import annotations

from typing import Any

from annoris.database import DOWN, OUTAGES, available, call
from sessions_app.models import Session

__all__ = ["DOWN", "OUTAGES", "available", "call", "session_by"]


def session_by(column: str, value: Any) -> Session | None:
    """The session whose ``column`` (``pk`` or ``github_path``, both unique) equals ``value``,
    its project loaded in the same query; or None."""
    return Session.objects.select_related("project").filter(**{column: value}).order_by().first()
