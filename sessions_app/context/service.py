"""The start-of-session context and the open next steps, read from the database.

``build_context`` and ``project_next_steps`` are what the REST views and the MCP tools
call. Only the sessions shown are decrypted: at most ``ANNORIS_CONTEXT_SESSIONS`` of the
newest ones.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache, partial
from itertools import zip_longest
from typing import Any

from django.conf import settings
from django.db.models import Max
from django.urls import reverse

from annoris.crypto import DecryptionError
from projects_app.models import Project
from projects_app.selectors import ProjectNotFound, find_project
from sessions_app.documents.nextsteps import StepMentions, extract_steps, open_steps
from sessions_app.models import Session

from .compose import ContextResult, ContextSession, ContextStep, compose_context
from .limits import (
    CLIENT_PRESETS,
    DEFAULT_BUDGET,
    MAX_BUDGET,
    MAX_CHARS,
    MIN_BUDGET,
    MIN_CHARS,
    BudgetOutOfRange,
    ClientPreset,
    context_limits,
)

__all__ = [
    "CLIENT_PRESETS",
    "DEFAULT_BUDGET",
    "MAX_BUDGET",
    "MAX_CHARS",
    "MIN_BUDGET",
    "MIN_CHARS",
    "NEWEST_FIRST",
    "BudgetOutOfRange",
    "ClientPreset",
    "NextStep",
    "ProjectNotFound",
    "build_context",
    "context_composer",
    "context_limits",
    "project_next_steps",
    "resolve_project",
    "resource_link",
]

RECENT_PROJECTS = 3  # projects in a context asked for without one
_MIN_PER_PROJECT = 10  # sessions each of them reads, at least
_RECENT_SCAN = 300  # newest sessions looked at to find them
_FIELDS = (
    *("id", "title", "created_at", "undated", "state", "next_step", "content", "github_path"),
    "project__name",
)
# Newest first; an undated session (no date in it, its name or its history) never outranks a
# dated one; sessions of one instant by path, descending (file names often number them).
NEWEST_FIRST = ("undated", "-created_at", "-github_path", "id")


@dataclass(frozen=True)
class NextStep:
    """An open next step, newest first, with the session it comes from."""

    text: str
    session_id: uuid.UUID
    session_title: str
    session_created_at: datetime
    url: str


def resolve_project(project: Project | uuid.UUID | str) -> Project:
    """A project by instance, id, name, slug or folder name (any case); ProjectNotFound otherwise."""
    return find_project(project)


def resource_link(session_id: uuid.UUID | str) -> str:
    """A session as an MCP resource: ``annoris://sessions/{id}`` (links for ``build_context``)."""
    return f"annoris://sessions/{session_id}"


def build_context(
    project: Project | uuid.UUID | str | None = None,
    budget_tokens: int | None = None,
    *,
    budget_chars: int | None = None,
    client: str | None = None,
    link_base: str = "",
    links: Callable[[uuid.UUID], str] | None = None,
) -> ContextResult:
    """What an assistant should load at the start of a session, within its budgets.

    With ``project`` (instance, id, name, slug or folder): its name, status and priority,
    its open next steps and its sessions, newest first. Without: the same over the
    RECENT_PROJECTS most recently active projects, each with its own sessions and open
    steps. Budgets: see ``context_limits`` (``client``: claude-code, codex or chatgpt).
    Links are ``links(session id)``, by default ``link_base`` + the session's API path
    (``resource_link`` gives MCP resources). Raises ProjectNotFound and BudgetOutOfRange.
    """
    budget_tokens, budget_chars = context_limits(budget_tokens, budget_chars, client)
    return context_composer(project, link_base=link_base, links=links)(budget_tokens, budget_chars)


def context_composer(
    project: Project | uuid.UUID | str | None = None,
    *,
    link_base: str = "",
    links: Callable[[uuid.UUID], str] | None = None,
) -> Callable[[int, int | None], ContextResult]:
    """``build_context`` read once: sessions fetched and decrypted, open steps found; the function
    returned composes them within any (checked) budgets, ``(budget_tokens, budget_chars)``: the
    MCP tool composes again, smaller, when the JSON around the markdown is over. Raises
    ProjectNotFound."""
    if project is not None:
        projects = [resolve_project(project)]
        header = _project_header(projects[0])
        window = settings.ANNORIS_CONTEXT_SESSIONS
    else:
        projects = _recent_projects()
        header = _recent_header(projects)
        window = max(_MIN_PER_PROJECT, settings.ANNORIS_CONTEXT_SESSIONS // max(1, len(projects)))
    link = links or _links(link_base)
    sessions: list[ContextSession] = []
    steps_by_project: list[list[ContextStep]] = []
    full = False  # some project has more sessions than its window: count them all
    for found in projects:
        rows = _recent_sessions([found.id], window)
        full = full or len(rows) == window
        shown = [_context_session(row, link) for row in rows]
        sessions += shown
        steps_by_project.append(_open_steps(shown))
    sessions.sort(key=lambda s: (s.undated, -s.created_at.timestamp()))  # stable: ties keep their order
    total = Session.objects.live().filter(project__in=projects).count() if full else len(sessions)
    return partial(
        _compose,
        header=header,
        steps=_interleaved(steps_by_project),
        sessions=sessions,
        projects=[p.name for p in projects],
        more_sessions=max(0, total - len(sessions)),
    )


def _compose(budget_tokens: int, budget_chars: int | None, **material: Any) -> ContextResult:
    return compose_context(budget_tokens=budget_tokens, budget_chars=budget_chars, **material)


def _open_steps(sessions: list[ContextSession]) -> list[ContextStep]:
    """The open steps of one project's sessions (newest first)."""
    mentions = ((s, _mentions(s.text, s.next, s.title, s.state == "done")) for s in sessions if s.text)
    return [
        ContextStep(text=text, session_id=s.id, session_title=s.title, url=s.url)
        for text, s in open_steps(mentions)
    ]


def _interleaved(groups: list[list[ContextStep]]) -> list[ContextStep]:
    """One step of each project in turn, so no project's steps crowd out another's."""
    return [step for row in zip_longest(*groups) for step in row if step is not None]


def project_next_steps(
    project: Project | uuid.UUID | str, *, sessions: int | None = None, link_base: str = ""
) -> list[NextStep]:
    """The open next steps of the project's ``sessions`` newest sessions, newest first.

    Closed steps (checked, ✅, struck, done, or named as done in other words by a later
    session) drop out; identical steps appear once, linked to the newest session that
    lists them open.
    """
    found = resolve_project(project)
    rows = _recent_sessions([found.id], sessions or settings.ANNORIS_CONTEXT_SESSIONS)
    links = _links(link_base)
    mentions = []
    for row in rows:
        text = _decrypted(row)
        if text is not None:
            mentions.append((row, _mentions(text, row.next_step, row.title, row.state == "done")))
    return [
        NextStep(
            text=text,
            session_id=row.id,
            session_title=row.title,
            session_created_at=row.created_at,
            url=links(row.id),
        )
        for text, row in open_steps(mentions)
    ]


@lru_cache(maxsize=4096)
def _mentions(text: str, next_field: str, title: str, done: bool) -> StepMentions:
    """The steps of a document, computed once per content (sessions are read far more than written)."""
    return extract_steps(text, next_field=next_field, title=title, done=done)


def _recent_projects() -> list[Project]:
    """The RECENT_PROJECTS projects with the newest live sessions (dated ones first).

    Walks the newest sessions on an index until enough projects are seen, and only
    aggregates over every session when the newest few hundred name fewer projects.
    """
    newest = (
        Session.objects.live()
        .exclude(project=None)
        .order_by("undated", "-created_at")
        .values_list("project_id", flat=True)[:_RECENT_SCAN]
    )
    ids = list(dict.fromkeys(newest))[:RECENT_PROJECTS]
    if len(ids) < RECENT_PROJECTS:
        latest = (
            Session.objects.live()
            .exclude(project=None)
            .values("project")
            .annotate(last=Max("created_at"))
            .order_by("-last")[:RECENT_PROJECTS]
        )
        ids = [row["project"] for row in latest]
    by_id = {p.id: p for p in Project.objects.filter(id__in=ids)}
    return [by_id[i] for i in ids if i in by_id]


def _recent_sessions(project_ids: list[uuid.UUID], limit: int) -> list[Session]:
    if not project_ids:
        return []
    return list(
        Session.objects.live()
        .filter(project_id__in=project_ids)
        .select_related("project")
        .only(*_FIELDS)
        .order_by(*NEWEST_FIRST)[:limit]
    )


def _project_header(project: Project) -> str:
    return (
        f"# Context: {_line(project.name)}\n\n"
        f"Status: {project.get_status_display()} · Priority: {project.priority}\n"
    )


def _recent_header(projects: list[Project]) -> str:
    if not projects:
        return "# Context: recent projects\n\nNo sessions yet.\n"
    lines = [f"- **{_line(p.name)}**: {p.get_status_display()} · priority {p.priority}" for p in projects]
    return "# Context: recent projects\n\n" + "\n".join(lines) + "\n"


def _context_session(row: Session, links: Callable[[uuid.UUID], str]) -> ContextSession:
    return ContextSession(
        id=str(row.id),
        title=row.title,
        created_at=row.created_at,
        state=row.state,
        next=row.next_step,
        url=links(row.id),
        text=_decrypted(row),
        undated=row.undated,
    )


def _decrypted(row: Session) -> str | None:
    try:
        return row.text
    except DecryptionError:
        return None  # shown as title, state and next only; the read API reports the key problem


def _links(link_base: str) -> Callable[[uuid.UUID], str]:
    """Session id -> link_base + its API path, resolving the route once per call."""
    placeholder = uuid.UUID(int=0)
    template = link_base + reverse("session-detail", args=[placeholder])
    return lambda session_id: template.replace(str(placeholder), str(session_id))


def _line(text: str) -> str:
    return " ".join(text.split())
