"""What the assistant can list over MCP: projects, recent activity, search results, next steps.

Every list is bounded twice: by its ``limit`` and by its budget (``budget.py``). A page is
built, counted as text and as JSON, and shortened from the end until both fit; what was
left out is said (``next_cursor``, ``more_*``), never dropped silently.
"""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Annotated, Any

from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import CallToolResult, ToolAnnotations
from pydantic import Field

from annoris.mcp import budget, shapes
from annoris.mcp.tools import (
    MAX_LIMIT,
    MAX_PAGE,
    MAX_QUERY_CHARS,
    READ_ONLY,
    ProjectRef,
    _optional,
    _orm,
    _project,
    _summary,
    _text,
    session_uri,
)
from sessions_app import activity
from sessions_app import context as session_context
from sessions_app import search as session_search
from sessions_app.documents.dates import parse_human_date
from sessions_app.models import Session

# --- list_projects -----------------------------------------------------------------------------


async def list_projects(
    cursor: Annotated[
        str | None,
        Field(max_length=100, description="The next_cursor of the previous page; omit for the first."),
    ] = None,
    limit: Annotated[int, Field(ge=1, le=MAX_PAGE, description="The most projects on this page.")] = 50,
) -> Annotated[CallToolResult, shapes.ProjectsPage]:
    """List the projects, most recently active first (by their newest session), with status,
    session count and last activity, one page at a time: pass next_cursor as cursor for the
    next page until it is null."""
    return await _orm(_list_projects, _offset(cursor), limit)


def _offset(cursor: str | None) -> int:
    if cursor is None:
        return 0
    try:
        kind, _, value = base64.urlsafe_b64decode(cursor.encode("ascii")).decode("ascii").partition(":")
        offset = int(value)
    except (ValueError, UnicodeError):
        kind, offset = "", -1
    if kind != "p" or offset < 0:
        raise ToolError(
            "cursor is not a next_cursor list_projects gave; omit it to start from the first page."
        )
    return offset


def _cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(f"p:{offset}".encode("ascii")).decode("ascii")


def _list_projects(offset: int, limit: int) -> CallToolResult:
    rows, total = activity.projects_by_activity(offset=offset, limit=limit)
    projects = [
        shapes.ProjectRow(
            id=str(p.id),
            name=p.name,
            status=p.status,
            priority=p.priority,
            session_count=p.session_count,
            last_activity=f"{p.last_activity:%Y-%m-%d}" if p.last_activity else None,
        )
        for p in rows
    ]

    def page(k: int) -> tuple[shapes.ProjectsPage, str]:  # the page shrinks until text and JSON fit
        end = offset + k
        built = shapes.ProjectsPage(
            projects=projects[:k], total=total, next_cursor=_cursor(end) if end < total else None
        )
        return built, _projects_text(built, offset)

    return budget.largest_page(len(projects), budget.LIST_PROJECTS, page)


def _projects_text(page: shapes.ProjectsPage, offset: int) -> str:
    shown = f"{offset + 1}-{offset + len(page.projects)}" if page.projects else "none"
    lines = [f"Projects {shown} of {page.total}, most recently active first:"]
    for p in page.projects:
        last = f"last {p.last_activity}" if p.last_activity else "no sessions"
        lines.append(f"- {p.name} ({p.status}, {p.session_count} sessions, {last})")
    if page.next_cursor:
        lines.append(f'More: call list_projects with cursor="{page.next_cursor}".')
    return "\n".join(lines)


# --- recent_activity ---------------------------------------------------------------------------


async def recent_activity(
    project: ProjectRef | None = None,
    since: Annotated[
        str | None, Field(max_length=40, description="Only sessions on or after this date, e.g. 2025-10-20.")
    ] = None,
    limit: Annotated[int, Field(ge=1, le=activity.MAX_ACTIVITY, description="The most sessions.")] = 10,
) -> Annotated[CallToolResult, shapes.Activity]:
    """Show what happened lately: the newest sessions (of one project, or of all) with their
    titles, dates and states, and the next steps they leave open. Small by design: read a
    session with read_session for its text."""
    when = _since(since)
    return await _orm(_recent_activity, _optional(project, "project"), when, limit)


def _since(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        when = parse_human_date(_text(value, "since"))
    except ValueError:
        when = None
    if when is None:
        raise ToolError("since must be a date such as 2025-10-20.")
    return when


def _recent_activity(project: str | None, since: datetime | None, limit: int) -> CallToolResult:
    found = _project(project) if project is not None else None
    recent = activity.recent_activity(project=found, since=since, limit=limit)
    sessions = [
        shapes.ActivityItem(**{k: v for k, v in _summary(s).items() if k != "status"})
        for s in recent.sessions
    ]
    steps = [_step(step.text, step.session) for step in recent.open_steps]
    name = found.name if found else None

    def answer(kept_sessions: int, kept_steps: int) -> tuple[shapes.Activity, str]:
        result = shapes.Activity(
            sessions=sessions[:kept_sessions],
            open_steps=steps[:kept_steps],
            more_sessions=recent.more_sessions + len(sessions) - kept_sessions,
            more_steps=len(steps) - kept_steps,
        )
        return result, _activity_text(result, name)

    # Steps give way first, then sessions (at least one is always shown).
    with_sessions = budget.largest_page(
        len(steps), budget.RECENT_ACTIVITY, lambda k: answer(len(sessions), k), least=0
    )
    if budget.fits(budget.RECENT_ACTIVITY, with_sessions.content[0].text, with_sessions.structured_content):
        return with_sessions
    return budget.largest_page(len(sessions), budget.RECENT_ACTIVITY, lambda k: answer(k, 0))


def _step(text: str, session: Session) -> shapes.Step:
    return shapes.Step(
        text=text,
        session_id=str(session.id),
        session_title=session.title,
        date=f"{session.created_at:%Y-%m-%d}",
    )


def _activity_text(result: shapes.Activity, project: str | None) -> str:
    lines = [f"Recent activity{f' in {project}' if project else ''}, newest first:"]
    for s in result.sessions:
        where = f"{s.project} · " if s.project and not project else ""
        lines.append(f"- {s.date} · {where}{s.state} · {s.title} <{session_uri(s.id)}>")
    if not result.sessions:
        lines.append("- nothing yet")
    if result.open_steps:
        lines += ["", "Open next steps:"]
        lines += [f"- {step.text} (from {step.session_title}, {step.date})" for step in result.open_steps]
    more = [
        f"{n} more {what}"
        for n, what in ((result.more_sessions, "sessions"), (result.more_steps, "open steps"))
        if n
    ]
    if more:
        lines += ["", f"{' and '.join(more)} not shown: raise limit, narrow since, or call next_steps."]
    return "\n".join(lines)


# --- search_sessions, next_steps --------------------------------------------------------------


async def search_sessions(
    query: Annotated[
        str, Field(min_length=1, max_length=MAX_QUERY_CHARS, description=session_search.QUERY_SYNTAX)
    ],
    project: ProjectRef | None = None,
    limit: Annotated[int, Field(ge=1, le=MAX_LIMIT, description="The most results to return.")] = 10,
    offset: Annotated[int, Field(ge=0, le=10_000, description="Results to skip (paging).")] = 0,
    since: Annotated[
        str | None,
        Field(max_length=40, description="Only sessions created at or after this date (ISO 8601)."),
    ] = None,
    state: Annotated[
        session_search.StateName | None, Field(description="Only sessions in this state.")
    ] = None,
) -> Annotated[CallToolResult, shapes.SearchResults]:
    """Find sessions by words in their title and body and by meaning (hybrid search), best
    match first, each with the line holding the match marked. Says which parts of the query
    were ignored and whether sessions still wait to be indexed (incomplete)."""
    args = (_text(query, "query"), _optional(project, "project"), limit, offset, since, state)
    return await _orm(_search_sessions, *args)


def _search_sessions(
    query: str, project: str | None, limit: int, offset: int, since: str | None, state: str | None
) -> CallToolResult:
    found = _project(project) if project is not None else None
    try:
        after = session_search.parse_since(since) if since is not None else None
    except ValueError as exc:
        raise ToolError(str(exc)) from None
    searched = session_search.run_search(
        query, project=found, limit=limit, offset=offset, since=after, state=state
    )
    total = searched.total
    results = [
        shapes.SearchResult(
            id=str(hit.session_id),
            title=hit.title,
            project=hit.project,
            date=f"{hit.created_at:%Y-%m-%d}",
            state=hit.state,
            snippet=hit.snippet,
        )
        for hit in searched.hits
    ]

    def answer(k: int) -> tuple[shapes.SearchResults, str]:
        result = shapes.SearchResults(
            results=results[:k],
            total=total,
            offset=offset,
            ignored=searched.ignored,
            incomplete=searched.waiting > 0,
            waiting_to_index=searched.waiting,
        )
        lines = [f"{total} sessions match; best first:" if total else "No session matches."]
        if result.ignored:
            lines.append(f"Ignored: {'; '.join(result.ignored)}.")
        if result.incomplete:
            lines.append(f"Incomplete: {searched.waiting} sessions still wait to be indexed.")
        for r in result.results:
            lines.append(
                f"- {r.title} ({r.project or 'no project'}, {r.date}, {r.state}) <{session_uri(r.id)}>"
            )
            lines.append(f"  {' '.join(r.snippet.split())}")
        return result, "\n".join(lines)

    return budget.largest_page(len(results), budget.SEARCH, answer)


async def next_steps(project: ProjectRef) -> Annotated[CallToolResult, shapes.StepsList]:
    """List the open next steps of a project's recent sessions, newest first, each with the
    session it comes from. Steps a later session closed are left out."""
    return await _orm(_next_steps, _text(project, "project"))


def _next_steps(project: str) -> CallToolResult:
    found = _project(project)
    steps = [
        shapes.Step(
            text=step.text,
            session_id=str(step.session_id),
            session_title=step.session_title,
            date=f"{step.session_created_at:%Y-%m-%d}",
        )
        for step in session_context.project_next_steps(found)
    ]

    def answer(k: int) -> tuple[shapes.StepsList, str]:
        result = shapes.StepsList(project=found.name, next_steps=steps[:k], more=len(steps) - k)
        lines = [
            f"Open next steps of {found.name}, newest first:" if k else f"{found.name} has no open next step."
        ]
        lines += [
            f"- {s.text} (from {s.session_title}, {s.date} <{session_uri(s.session_id)}>)"
            for s in result.next_steps
        ]
        if result.more:
            lines.append(f"{result.more} more not shown.")
        return result, "\n".join(lines)

    return budget.largest_page(len(steps), budget.NEXT_STEPS, answer, least=0)


# (function, title, hints): the list tools.
TOOLS: list[tuple[Any, str, ToolAnnotations]] = [
    (recent_activity, "Recent activity", READ_ONLY),
    (list_projects, "List projects", READ_ONLY),
    (search_sessions, "Search sessions", READ_ONLY),
    (next_steps, "Open next steps", READ_ONLY),
]
