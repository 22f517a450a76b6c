"""What the assistant can call over MCP: thin tools over the services, with bounded inputs.

Each tool is an ``async`` function that validates its arguments, runs the synchronous
service through ``_orm`` (Django's ``sync_to_async``: under the HTTP bridge the ORM runs on
the request's own thread, with Django's connection handling) and returns a JSON object.
A failure the caller can act on is a ``ToolError``: the SDK answers it as a tool result with
``isError`` and the message, never as a protocol error or a 500.

Writes (``save_session``, ``update_session``) need the ``write`` scope over HTTP (see
``require_write``); over stdio the caller is the local operator and may do everything.

The tools call the same services as the REST API: the context, next steps and search of
``sessions_app``, the drift report of ``sync_app.drift``, the read path for sessions.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

from asgiref.sync import sync_to_async
from django.db import DatabaseError, close_old_connections
from django.db.models import Count, Max, Q
from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ResourceError, ResourceNotFoundError, ToolError
from mcp.types import Resource, ToolAnnotations
from pydantic import Field

from annoris.crypto import DecryptionError
from annoris.errors import DomainError
from annoris.text import NUL, SURROGATE, unstorable
from projects_app.models import Project
from sessions_app import context as session_context
from sessions_app import search as session_search
from sessions_app import writes
from sessions_app.models import Session
from sessions_app.readpath import SessionNotFound, SessionUnavailable
from sessions_app.readpath.read import FetchResult
from sessions_app.summary import session_summary
from sessions_app.writes.paths import check_path
from sync_app.drift import drift_report
from sync_app.models import SyncLog, SyncState

T = TypeVar("T")

# The key under which the HTTP bridge puts the caller's Grant into the ASGI scope.
GRANT_KEY = "annoris.mcp.grant"


@dataclass(frozen=True)
class Grant:
    """What an HTTP caller authenticated as: who, and whether its token may write."""

    user: str
    write: bool


# --- Bounds on what a caller controls -----------------------------------------------------
MAX_MARKDOWN_BYTES = 512 * 1024  # a session document; ~50x the largest shipped sample
MAX_QUERY_CHARS = 200
MAX_LIMIT = 50
MAX_PROJECTS = 500
MIN_BUDGET, MAX_BUDGET = 50, 50_000

ProjectRef = Annotated[str, Field(max_length=255, description="A project's name (any case) or its id.")]
Markdown = Annotated[
    str, Field(min_length=1, max_length=MAX_MARKDOWN_BYTES, description="The whole session document.")
]

READ_ONLY = ToolAnnotations(
    read_only_hint=True, destructive_hint=False, idempotent_hint=True, open_world_hint=False
)
CREATES = ToolAnnotations(
    read_only_hint=False, destructive_hint=False, idempotent_hint=False, open_world_hint=True
)
REPLACES = ToolAnnotations(
    read_only_hint=False, destructive_hint=True, idempotent_hint=False, open_world_hint=True
)


class SessionMissing(ToolError):
    """No live session has this id or path."""


async def _orm(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run ``fn`` on Django's sync thread; a database outage is a tool error, not a crash."""

    def call() -> T:
        close_old_connections()  # a connection that died since the last call is replaced
        try:
            return fn(*args, **kwargs)
        except DatabaseError:
            raise ToolError("The database is unavailable; try again shortly.") from None

    return await sync_to_async(call, thread_sensitive=True)()


_local_operator = False  # set only by `manage.py mcp`: this process serves stdio, no HTTP


def trust_local_operator() -> None:
    """Let every caller of this process write: for the stdio command, whose caller is the
    operator who started it. The web process never calls this."""
    global _local_operator
    _local_operator = True


def require_write(ctx: Context, tool: str) -> None:
    """Refuse a write unless the HTTP caller holds the write scope, or this is the stdio process."""
    request = ctx.request_context.request
    grant = getattr(request, "scope", {}).get(GRANT_KEY) if request is not None else None
    if grant is not None and grant.write:
        return
    if grant is None and request is None and _local_operator:
        return
    raise ToolError(f"{tool} needs a token with the write scope; this token may only read.")


def _text(value: str, field: str) -> str:
    """``value`` as storable text: no NUL byte, no lone surrogate (PostgreSQL refuses both)."""
    why = unstorable(value)
    if why == NUL:
        raise ToolError(f"{field} must not contain a NUL character.")
    if why == SURROGATE:
        raise ToolError(f"{field} is not valid Unicode text (lone surrogate).")
    return value


# --- read_session ----------------------------------------------------------------------------


async def read_session(
    id: Annotated[str | None, Field(max_length=64, description="The session's id (a UUID).")] = None,
    path: Annotated[
        str | None,
        Field(max_length=500, description="The session's path in the repository, e.g. sessions/x.md."),
    ] = None,
) -> dict[str, Any]:
    """Read one session document, whole, by id or by path (give exactly one).

    Answers the document (markdown) with its metadata, and says which layer served it
    (cache, database, github or local) and how long that took.
    """
    if (id is None) == (path is None):
        raise ToolError("Give exactly one of id or path.")
    if path is not None:
        _check_path(_text(path, "path"))
    return await _orm(_read_session, id, path)


def _check_path(path: str) -> None:
    try:
        check_path(path)  # the write path's rule: relative, no '.'/'..'/hidden segment, SESSIONS_GLOB
    except writes.InvalidDocument:
        raise ToolError("path must be a relative path to a .md file inside the repository.") from None


def _read_session(session_id: str | None, path: str | None) -> dict[str, Any]:
    try:
        found = (
            Session.objects.fetch(_text(session_id, "id"))
            if session_id
            else Session.objects.fetch_by_path(path)
        )
    except SessionNotFound:
        raise SessionMissing(
            f"No session with {'id' if session_id else 'path'} {session_id or path!r}."
        ) from None
    except SessionUnavailable as exc:
        raise ToolError(f"The session cannot be read right now: {exc}") from None
    return _session_result(found)


def _session_result(found: FetchResult) -> dict[str, Any]:
    session = found.session
    try:
        markdown = session.text
    except DecryptionError:
        raise ToolError("The session cannot be decrypted with the configured keys.") from None
    return {
        **session_summary(session),
        "served_by": found.layer,
        "elapsed_ms": round(found.elapsed_ms, 2),
        "markdown": markdown,
    }


# --- list_projects -----------------------------------------------------------------------------


async def list_projects() -> dict[str, Any]:
    """List the projects, highest priority first, with status, session count and last session date."""
    return await _orm(_list_projects)


def _list_projects() -> dict[str, Any]:
    live = Q(sessions__deleted_at__isnull=True)
    rows = list(
        Project.objects.annotate(
            session_count=Count("sessions", filter=live),
            last_session_at=Max("sessions__created_at", filter=live),
        )[: MAX_PROJECTS + 1]
    )
    projects = [
        {
            "id": str(p.id),
            "name": p.name,
            "status": p.status,
            "priority": p.priority,
            "session_count": p.session_count,
            "last_session_at": p.last_session_at.isoformat() if p.last_session_at else None,
        }
        for p in rows[:MAX_PROJECTS]
    ]
    return {"projects": projects, "truncated": len(rows) > MAX_PROJECTS}


# --- sync_status -------------------------------------------------------------------------------


async def sync_status() -> dict[str, Any]:
    """Report the last sync (when, how it went, how many files) and the drift between the
    database and the repository now: files changed or not yet synced, rows whose file is
    gone, writes waiting in the outbox."""
    return await _orm(_sync_status)


def _sync_status() -> dict[str, Any]:
    last = SyncLog.objects.first()
    good = SyncLog.objects.filter(status__in=[SyncLog.Status.SUCCESS, SyncLog.Status.PARTIAL]).first()
    state = SyncState.objects.filter(pk=1).first()
    return {
        "last_sync": _sync_log(last),
        "last_successful_sync": _sync_log(good),
        "running_since": state.running_since.isoformat() if state and state.running_since else None,
        "drift": drift_report().summary(),  # at most 2 GitHub calls (a conditional listing)
    }


def _sync_log(log: SyncLog | None) -> dict[str, Any] | None:
    if log is None:
        return None
    return {
        "id": str(log.id),
        "started_at": log.synced_at.isoformat(),
        "finished_at": log.finished_at.isoformat() if log.finished_at else None,
        "trigger": log.source,
        "status": log.status,
        "files_synced": log.files_synced,
        "errors": log.errors,
        "revision": log.revision,
    }


# --- Context, search, next steps ----------------------------------------------------------------


async def get_context(
    project: ProjectRef | None = None,
    budget_tokens: Annotated[
        int, Field(ge=MIN_BUDGET, le=MAX_BUDGET, description="The most tokens the context may take.")
    ] = 2500,
) -> dict[str, Any]:
    """Load what to know at the start of a work session: the project's name, status and
    priority, its open next steps and its sessions (newest first, the newest whole when it
    fits), never more than budget_tokens. Without a project: the most recently active ones."""
    return await _orm(_get_context, _optional(project, "project"), budget_tokens)


def _get_context(project: str | None, budget_tokens: int) -> dict[str, Any]:
    try:
        return session_context.build_context(project, budget_tokens).as_dict()
    except (session_context.ProjectNotFound, session_context.BudgetOutOfRange) as exc:
        raise ToolError(str(exc)) from None


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
) -> dict[str, Any]:
    """Find sessions by words in their title and body, and by meaning (hybrid search), best
    match first, each with the line holding the match marked. Says which parts of the query
    were ignored and whether sessions still wait to be indexed (incomplete)."""
    args = (_text(query, "query"), _optional(project, "project"), limit, offset, since, state)
    return await _orm(_search_sessions, *args)


def _search_sessions(
    query: str, project: str | None, limit: int, offset: int, since: str | None, state: str | None
) -> dict[str, Any]:
    found = _project(project) if project is not None else None
    try:
        after = session_search.parse_since(since) if since is not None else None
    except ValueError as exc:
        raise ToolError(str(exc)) from None
    result = session_search.run_search(
        query, project=found, limit=limit, offset=offset, since=after, state=state
    )
    answer = result.as_dict()
    return {"results": answer.pop("results"), "total": answer.pop("count"), **answer}


def _project(reference: str) -> Project:
    try:
        return session_context.resolve_project(reference)
    except session_context.ProjectNotFound as exc:
        raise ToolError(str(exc)) from None


async def next_steps(project: ProjectRef) -> dict[str, Any]:
    """List the open next steps of a project's recent sessions, newest first, each with the
    session it comes from. Steps a later session closed are left out."""
    return await _orm(_next_steps, _text(project, "project"))


def _next_steps(project: str) -> dict[str, Any]:
    steps = session_context.project_next_steps(_project(project))
    return {
        "next_steps": [
            {
                "text": step.text,
                "session_id": str(step.session_id),
                "session_title": step.session_title,
                "session_created_at": step.session_created_at.isoformat(),
            }
            for step in steps
        ]
    }


async def save_session(
    ctx: Context,
    markdown: Markdown,
    project: ProjectRef | None = None,
    title: Annotated[str | None, Field(max_length=300)] = None,
    status: Annotated[str | None, Field(max_length=100, description="e.g. '✅ done', 'in progress'.")] = None,
    priority: Annotated[str | None, Field(max_length=50)] = None,
    path: Annotated[str | None, Field(max_length=500, description="Default: from the path pattern.")] = None,
) -> dict[str, Any]:
    """Save a new session document to the repository (GitHub first; while GitHub is down it
    waits in the outbox and lands later). Given fields are written into the front matter.
    Answers the id, path and SHA (or the outbox entry). An existing path is refused."""
    require_write(ctx, "save_session")
    fields = {"project": project, "title": title, "status": status, "priority": priority}
    fields = {name: _text(value, name) for name, value in fields.items() if value is not None}
    if path is not None:
        _check_path(_text(path, "path"))
    return await _orm(_save_session, _markdown(markdown), fields, path, _caller(ctx))


def _save_session(markdown: str, fields: dict[str, str], path: str | None, caller: str) -> dict[str, Any]:
    try:
        outcome = writes.session_create(content=markdown, fields=fields, path=path, requested_by=caller)
    except DomainError as exc:
        raise ToolError(_refusal(exc)) from None
    return _outcome(outcome)


async def update_session(
    ctx: Context,
    id: Annotated[str, Field(max_length=64, description="The session's id.")],
    markdown: Markdown,
    expected_sha: Annotated[
        str,
        Field(
            min_length=40,
            max_length=40,
            description="The SHA read_session gave: refused if it changed since.",
        ),
    ],
) -> dict[str, Any]:
    """Replace a session document. Refused when the file changed since expected_sha (read it
    again and merge), so nothing written meanwhile is overwritten."""
    require_write(ctx, "update_session")
    try:
        session_id = uuid.UUID(id)
    except ValueError:
        raise ToolError(f"{id!r} is not a session id.") from None
    return await _orm(_update_session, session_id, _markdown(markdown), expected_sha, _caller(ctx))


def _update_session(session_id: uuid.UUID, markdown: str, expected_sha: str, caller: str) -> dict[str, Any]:
    try:
        outcome = writes.session_update(
            session_id=session_id, if_match=expected_sha, content=markdown, requested_by=caller
        )
    except DomainError as exc:
        raise ToolError(_refusal(exc)) from None
    return _outcome(outcome)


def _refusal(exc: DomainError) -> str:
    """The write path's refusal as one message: what, and per field why (never a secret's value)."""
    details = "; ".join(f"{name}: {', '.join(problems)}" for name, problems in exc.errors.items())
    return f"{exc} ({details})" if details else str(exc)


def _outcome(outcome: writes.WriteOutcome) -> dict[str, Any]:
    """Landed (``commit``) or waiting in the outbox for GitHub (``queued``): nothing accepted is lost."""
    queued = outcome.queued
    return {
        "id": str(outcome.session_id),
        "path": outcome.path,
        "sha": outcome.sha,
        "commit": outcome.commit,
        "queued": None if queued is None else {"outbox_id": str(queued.pk), "status": queued.status},
    }


def _caller(ctx: Context) -> str:
    request = ctx.request_context.request
    grant = getattr(request, "scope", {}).get(GRANT_KEY) if request is not None else None
    return f"mcp:{grant.user}" if grant is not None else "mcp:stdio"


# --- Resources: annoris://sessions/{id} ------------------------------------------------------

SESSION_URI = "annoris://sessions/{id}"
RECENT_RESOURCES = 50


async def session_markdown(id: str) -> str:
    """The document of session ``id`` (the resource template's reader)."""
    try:
        return (await _orm(_read_session, id, None))["markdown"]
    except SessionMissing as exc:
        raise ResourceNotFoundError(str(exc)) from None
    except ToolError as exc:
        raise ResourceError(str(exc)) from None


async def recent_sessions() -> list[Resource]:
    """The most recent live sessions, as resources to list."""
    return await _orm(_recent_sessions)


def _recent_sessions() -> list[Resource]:
    rows = Session.objects.live().select_related("project")[:RECENT_RESOURCES]
    return [
        Resource(
            uri=SESSION_URI.format(id=row.id),
            name=row.title or row.github_path,
            description=" · ".join(
                part
                for part in (row.project.name if row.project else "", f"{row.created_at:%Y-%m-%d}", row.state)
                if part
            ),
            mime_type="text/markdown",
        )
        for row in rows
    ]


def _optional(value: str | None, field: str) -> str | None:
    return None if value is None else _text(value, field)


def _markdown(markdown: str) -> str:
    if len(_text(markdown, "markdown").encode("utf-8")) > MAX_MARKDOWN_BYTES:
        raise ToolError(f"markdown is larger than {MAX_MARKDOWN_BYTES // 1024} KiB.")
    return markdown


# (function, title, hints): every tool the server offers.
TOOLS: list[tuple[Callable[..., Any], str, ToolAnnotations]] = [
    (get_context, "Start-of-session context", READ_ONLY),
    (search_sessions, "Search sessions", READ_ONLY),
    (read_session, "Read a session", READ_ONLY),
    (list_projects, "List projects", READ_ONLY),
    (next_steps, "Open next steps", READ_ONLY),
    (save_session, "Save a new session", CREATES),
    (update_session, "Update a session", REPLACES),
    (sync_status, "Sync status", READ_ONLY),
]
