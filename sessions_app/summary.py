"""A session's summary: the fields a list shows, JSON-ready, in one place.

The API's list and detail (``serializers.py``) and the MCP tools answer with it; the API
adds the size, the last sync and the URL.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from annoris.timestamps import iso  # the one timestamp format (ISO 8601, UTC as 'Z'), re-exported

if TYPE_CHECKING:
    from sessions_app.models import Session


def session_summary(session: Session) -> dict[str, Any]:
    """id, title, project (its name), status, state, priority, next, created_at, path, sha."""
    project = session.project if session.project_id else None
    return {
        "id": str(session.id),
        "title": session.title,
        "project": project.name if project is not None else None,
        "status": session.status,
        "state": session.state,
        "priority": session.priority,
        "next": session.next_step,
        "created_at": iso(session.created_at),
        "path": session.github_path,
        "sha": session.github_sha,
    }
