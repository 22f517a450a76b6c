"""Small reads for an assistant: projects by last activity, and recent activity (issue #15).

``projects_by_activity`` pages the projects, most recently active first (the date of the
newest live session; projects without one last, by name). ``recent_activity`` gives the
newest sessions, optionally of one project and since a time, with the next steps they leave
open: titles, dates, states and steps only, never a document's text.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

from django.db.models import Count, F, Max, Q

from annoris.crypto import DecryptionError
from projects_app.models import Project
from sessions_app.documents.nextsteps import StepMentions, extract_steps, open_steps
from sessions_app.models import Session

MAX_ACTIVITY = 50


@dataclass(frozen=True)
class ProjectActivity:
    id: uuid.UUID
    name: str
    status: str
    priority: int
    session_count: int
    last_activity: datetime | None


@dataclass(frozen=True)
class OpenStep:
    text: str
    session: Session


@dataclass(frozen=True)
class RecentActivity:
    """The sessions shown (newest first), the steps they leave open, and how many sessions
    of the window were not shown."""

    sessions: list[Session]
    open_steps: list[OpenStep]
    more_sessions: int


@lru_cache(maxsize=1024)
def _steps(text: str, next_field: str) -> StepMentions:
    """The steps of a document, once per content (a session is read far more often than written)."""
    return extract_steps(text, next_field=next_field)


def projects_by_activity(*, offset: int, limit: int) -> tuple[list[ProjectActivity], int]:
    """(projects ``offset`` to ``offset + limit`` by last activity, the number of projects)."""
    live = Q(sessions__deleted_at__isnull=True)
    rows = (
        Project.objects.annotate(
            session_count=Count("sessions", filter=live),
            last_activity=Max("sessions__created_at", filter=live),
        )
        .order_by(F("last_activity").desc(nulls_last=True), "name", "id")
        .values("id", "name", "status", "priority", "session_count", "last_activity")[offset : offset + limit]
    )
    return [ProjectActivity(**row) for row in rows], Project.objects.count()


def recent_activity(
    *, project: Project | None = None, since: datetime | None = None, limit: int = 10
) -> RecentActivity:
    """The ``limit`` newest live sessions (of ``project``, since ``since``) and their open steps.

    A step is open when a shown session lists it and no newer shown session closes it.
    Only the shown sessions are decrypted.
    """
    queryset = Session.objects.live().select_related("project")
    if project is not None:
        queryset = queryset.filter(project=project)
    if since is not None:
        queryset = queryset.filter(created_at__gte=since)
    rows = list(queryset.order_by("-created_at", "id")[: limit + 1])
    shown = rows[:limit]
    more = queryset.count() - len(shown) if len(rows) > limit else 0
    mentions = []
    for row in shown:
        try:
            mentions.append((row, _steps(row.text, row.next_step)))
        except DecryptionError:
            continue  # shown with its title, state and next only
    steps = [OpenStep(text, row) for text, row in open_steps(mentions)]
    return RecentActivity(sessions=shown, open_steps=steps, more_sessions=more)
