"""The MCP tools' common ground (grants, bounds, the ORM bridge) and the reading tools:
get_context, read_session, sync_status and the session resources. Lists are in ``lists.py``.

Each tool is an ``async`` function that validates its arguments, runs the synchronous
service through ``_orm`` (Django's ``sync_to_async``: under the HTTP bridge the ORM runs on
the request's own thread, with Django's connection handling) and answers a ``CallToolResult``
built by ``shapes.respond``: structuredContent of the tool's declared output model and one
text block, each within the tool's budget (``budget.py``). A failure the caller can act on
is a ``ToolError`` whose message is one sentence: the SDK answers it as a tool result with
``isError``, never as a protocol error or a 500.

The writes live in ``writing.py``; they need the ``write`` scope over HTTP (see
``require_write``); over stdio the caller is the local operator and may do everything.

The tools call the same services as the REST API: the context, next steps and search of
``sessions_app``, the drift report of ``sync_app.drift``, the read path for sessions.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, Literal, TypeVar

from asgiref.sync import sync_to_async
from django.db import DatabaseError, close_old_connections
from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ResourceError, ResourceNotFoundError, ToolError
from mcp.types import CallToolResult, Resource, ToolAnnotations
from pydantic import Field

from annoris.crypto import DecryptionError
from annoris.mcp import budget, shapes
from annoris.state import per_process
from annoris.text import NUL, SURROGATE, unstorable
from annoris.timestamps import iso
from projects_app.models import Project
from projects_app.selectors import ProjectNotFound, find_project
from sessions_app import context as session_context
from sessions_app.models import Session
from sessions_app.readpath import SessionNotFound, SessionUnavailable
from sessions_app.readpath.read import FetchResult
from sessions_app.writes import InvalidDocument
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
MAX_PAGE = 100
MIN_BUDGET, MAX_BUDGET = 50, 50_000

ProjectRef = Annotated[
    str, Field(max_length=255, description="A project's name, slug or folder name (any case), or its id.")
]
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
SESSION_URI = "annoris://sessions/{id}"


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


class _LocalOperator:
    """Whether this process serves stdio (``manage.py mcp``, never the web): per-process state."""

    trusted = False

    def reset(self, clock: object = None) -> None:
        self.trusted = False


LOCAL_OPERATOR = per_process(_LocalOperator())


def trust_local_operator() -> None:
    """Let every caller of this process write: for the stdio command, whose caller is the
    operator who started it. The web process never calls this."""
    LOCAL_OPERATOR.trusted = True


def require_write(ctx: Context, tool: str) -> None:
    """Refuse a write unless the HTTP caller holds the write scope, or this is the stdio process."""
    request = ctx.request_context.request
    grant = getattr(request, "scope", {}).get(GRANT_KEY) if request is not None else None
    if grant is not None and grant.write:
        return
    if grant is None and request is None and LOCAL_OPERATOR.trusted:
        return
    raise ToolError(f"{tool} needs a token with the write scope; this token may only read.")


def _caller(ctx: Context) -> str:
    request = ctx.request_context.request
    grant = getattr(request, "scope", {}).get(GRANT_KEY) if request is not None else None
    return f"mcp:{grant.user}" if grant is not None else "mcp:stdio"


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
    offset: Annotated[
        int, Field(ge=0, description="Where to start reading (a next_offset from an earlier answer).")
    ] = 0,
) -> Annotated[CallToolResult, shapes.SessionRead]:
    """Read one session document, whole, by id or by path (give exactly one). Answers the
    markdown with its metadata (its sha is the expected_sha of a later change) and the layer
    that served it. A very long document comes in parts: pass next_offset as offset."""
    if (id is None) == (path is None):
        raise ToolError("Give exactly one of id or path.")
    if path is not None:
        _check_path(_text(path, "path"))
    return await _orm(_read_session, id, path, offset)


def _check_path(path: str) -> None:
    try:
        check_path(path)  # the write path's rule: relative, no '.'/'..'/hidden segment, SESSIONS_GLOB
    except InvalidDocument:
        raise ToolError("path must be a relative path to a .md file inside the repository.") from None


def _fetch(session_id: str | None, path: str | None) -> FetchResult:
    try:
        if session_id:
            return Session.objects.fetch(_text(session_id, "id"))
        return Session.objects.fetch_by_path(path)
    except SessionNotFound:
        raise SessionMissing(
            f"No session has {'id' if session_id else 'path'} {session_id or path!r}; "
            "find one with search_sessions or recent_activity."
        ) from None
    except SessionUnavailable as exc:
        raise ToolError(f"The session cannot be read right now: {exc}") from None


def _markdown_of(session: Session) -> str:
    try:
        return session.text
    except DecryptionError:
        raise ToolError("The session cannot be decrypted with the configured keys.") from None


def _read_session(session_id: str | None, path: str | None, offset: int) -> CallToolResult:
    found = _fetch(session_id, path)
    session, markdown = found.session, _markdown_of(found.session)
    if offset > len(markdown):
        raise ToolError(f"offset {offset} is past the end of the document ({len(markdown)} characters).")
    room = budget.READ_SESSION - 400  # the metadata around the markdown
    while True:  # JSON escapes (\n, quotes) cost tokens too: shrink until both forms fit
        part = budget.cut(markdown[offset:], room)
        end = offset + len(part)
        result = shapes.SessionRead(
            **_summary(session),
            priority=session.priority,
            path=session.github_path,
            sha=session.github_sha,
            served_by=found.layer,
            elapsed_ms=round(found.elapsed_ms, 2),
            markdown=part,
            truncated=end < len(markdown),
            next_offset=end if end < len(markdown) else None,
        )
        note = f"\n\n[Part of the document: read on with offset={end}.]" if result.truncated else ""
        over = budget.json_tokens(result.model_dump(mode="json")) - budget.READ_SESSION
        if over <= 0 or room <= 1000:
            return shapes.respond(result, part + note)
        room -= over + 100


def _summary(session: Session) -> dict[str, Any]:
    return {
        "id": str(session.id),
        "title": session.title,
        "project": session.project.name if session.project_id and session.project else None,
        "date": f"{session.created_at:%Y-%m-%d}",
        "state": session.state,
        "status": session.status,
        "next": session.next_step,
    }


def session_uri(session_id: object) -> str:
    return SESSION_URI.format(id=session_id)


# --- sync_status -------------------------------------------------------------------------------


async def sync_status() -> Annotated[CallToolResult, shapes.SyncStatus]:
    """Report the last sync (when, how it went, how many files) and the drift between the
    database and the repository now: files changed or not yet synced, rows whose file is
    gone, writes waiting in the outbox."""
    return await _orm(_sync_status)


def _sync_status() -> CallToolResult:
    last = SyncLog.objects.first()
    good = SyncLog.objects.filter(status__in=[SyncLog.Status.SUCCESS, SyncLog.Status.PARTIAL]).first()
    state = SyncState.objects.filter(pk=1).first()
    result = shapes.SyncStatus(
        last_sync=_sync_log(last),
        last_successful_sync=_sync_log(good),
        running_since=iso(state.running_since) if state and state.running_since else None,
        drift=drift_report().summary(),  # at most 2 GitHub calls (a conditional listing)
    )
    return shapes.respond(result, _sync_text(result))


def _sync_log(log: SyncLog | None) -> shapes.SyncRun | None:
    if log is None:
        return None
    return shapes.SyncRun(
        id=str(log.id),
        started_at=iso(log.synced_at),
        finished_at=iso(log.finished_at),
        trigger=log.source,
        status=log.status,
        files_synced=log.files_synced,
        errors=log.errors,
        revision=log.revision or None,
    )


def _sync_text(result: shapes.SyncStatus) -> str:
    last = result.last_sync
    lines = [
        f"Last sync: {last.status}, {last.files_synced} files, {last.errors} errors, at {last.started_at}."
        if last
        else "No sync has run yet."
    ]
    if result.running_since:
        lines.append(f"A sync is running since {result.running_since}.")
    drift = ", ".join(f"{k}: {v}" for k, v in result.drift.items() if k != "checked_at")
    lines.append(f"Drift now: {drift}.")
    return "\n".join(lines)


# --- Context ----------------------------------------------------------------


async def get_context(
    project: ProjectRef | None = None,
    budget_tokens: Annotated[
        int | None,
        Field(
            ge=budget.MIN_CONTEXT,
            le=MAX_BUDGET,
            description="The most tokens the context may take (default 2500).",
        ),
    ] = None,
    budget_chars: Annotated[
        int | None,
        Field(
            ge=session_context.MIN_CHARS,
            le=session_context.MAX_CHARS,
            description="The most characters the context may take.",
        ),
    ] = None,
    client: Annotated[
        Literal["claude-code", "codex", "chatgpt"] | None,
        Field(description="Fit what this client shows: claude-code 10,000 characters, codex 2,500 tokens."),
    ] = None,
) -> Annotated[CallToolResult, shapes.Context]:
    """Load what to know at the start of a work session: the project's status, its open next
    steps and its sessions (newest first, the newest whole when it fits), within the budget.
    Without a project: the most recently active ones. Session links are annoris://sessions/{id}
    resources."""
    try:
        tokens_budget, chars = session_context.context_limits(budget_tokens, budget_chars, client)
    except session_context.BudgetOutOfRange as exc:
        raise ToolError(str(exc)) from None
    return await _orm(_get_context, _optional(project, "project"), tokens_budget, chars)


def _get_context(project: str | None, budget_tokens: int, chars: int | None) -> CallToolResult:
    """The context within both budgets as the text block AND as structuredContent: the JSON
    around the markdown (escapes, counts) is paid for by composing the context smaller. The
    sessions are read, decrypted and their steps found once; only the composing is redone."""
    try:
        compose = session_context.context_composer(project, links=session_context.resource_link)
    except session_context.ProjectNotFound as exc:
        raise ToolError(str(exc)) from None
    # The JSON around the markdown takes ~5% more (escaped newlines) plus its other fields: start
    # there, so one composing and one count usually do (each took 2 to 4 from the full budget).
    target = max(session_context.MIN_BUDGET, budget_tokens - budget_tokens // 20 - budget.JSON_FIELDS)
    target_chars = chars
    while True:
        built = compose(target, target_chars)
        result = shapes.Context(
            markdown=built.markdown,
            tokens=built.tokens,  # charged piece by piece: never below the real count
            budget_tokens=budget_tokens,
            token_counter=built.counter,
            projects=built.projects,
            sessions=shapes.ContextCounts(
                whole=len(built.whole),
                cut=len(built.cut),
                summarized=len(built.summarized),
                left_out=len(built.left_out),
            ),
        )
        structured = result.model_dump(mode="json")
        over = budget.json_tokens(structured) - budget_tokens
        over_chars = len(budget.json_text(structured)) - chars if chars else 0
        if over <= 0 and over_chars <= 0:
            return shapes.respond(result, built.markdown)
        if over > 0:
            target -= over + 10
        if over_chars > 0 and target_chars is not None:
            target_chars -= over_chars + 20
        if target < session_context.MIN_BUDGET or (
            target_chars is not None and target_chars < session_context.MIN_CHARS
        ):
            raise ToolError(
                "The budget is too small for this context; give a larger budget_tokens, e.g. 1000."
            )


def _project(reference: str) -> Project:
    try:
        return find_project(reference)
    except ProjectNotFound as exc:
        raise ToolError(str(exc)) from None  # "no project 'X'; did you mean 'Y'?"


# --- Resources: annoris://sessions/{id} ------------------------------------------------------

RECENT_RESOURCES = 50


async def session_markdown(id: str) -> str:
    """The document of session ``id`` (the resource template's reader)."""
    try:
        return await _orm(lambda: _markdown_of(_fetch(id, None).session))
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
            uri=session_uri(row.id),
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


# (function, title, hints): the tools of this module; the lists are in ``lists.TOOLS`` and the
# writes in ``writing.TOOLS``.
TOOLS: list[tuple[Callable[..., Any], str, ToolAnnotations]] = [
    (get_context, "Start-of-session context", READ_ONLY),
    (read_session, "Read a session", READ_ONLY),
    (sync_status, "Sync status", READ_ONLY),
]
