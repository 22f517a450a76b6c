"""What the assistant can write over MCP: save, update, edit and delete session documents.

Thin over ``sessions_app.writes``, the REST API's write path: the secret scan, If-Match
(``expected_sha``), the commit at the source first and the outbox while GitHub is away.
Each needs the ``write`` scope over HTTP (``tools.require_write``). Refusals are one sentence.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date
from typing import Annotated, Any

from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import CallToolResult, ToolAnnotations
from pydantic import Field

from annoris.errors import DomainError
from annoris.mcp import shapes
from annoris.mcp.tools import (
    CREATES,
    REPLACES,
    Markdown,
    ProjectRef,
    _caller,
    _check_path,
    _markdown,
    _orm,
    _text,
    require_write,
)
from sessions_app import writes

SessionId = Annotated[str, Field(max_length=64, description="The session's id.")]
ExpectedSha = Annotated[
    str,
    Field(
        min_length=40,
        max_length=40,
        description="The sha read_session (or the last write) gave: refused if the file changed since.",
    ),
]
EDITS = ToolAnnotations(
    read_only_hint=False, destructive_hint=False, idempotent_hint=False, open_world_hint=True
)
DELETES = ToolAnnotations(
    read_only_hint=False, destructive_hint=True, idempotent_hint=True, open_world_hint=True
)

SAVE_DESCRIPTION = "\n".join(
    [
        "Save a new session document to the repository (GitHub first; while GitHub is down it waits in "
        "the outbox and lands later), and answer its id, path and sha. Given fields merge with the "
        "document's own: a field the document already states is not written twice, and one that "
        "disagrees is refused, never silently overridden. next adds '- [ ]' steps to its Next steps section.",
        'Format: "# Title", then "**Date:** 2025-10-20", "**Status:** in progress", "**Project:** Annoris" '
        'lines, then sections such as "## Decided" and "## Done".',
        'Last: "## Next steps" with one "- [ ] step" per line; a later session checks one off '
        'as "- [x] step".',
    ]
)


async def save_session(
    ctx: Context,
    markdown: Markdown,
    project: ProjectRef | None = None,
    title: Annotated[str | None, Field(max_length=300, description="Default: the first # heading.")] = None,
    date: Annotated[
        date | None, Field(description="The session's date, YYYY-MM-DD (default: today).")
    ] = None,
    status: Annotated[str | None, Field(max_length=100, description="e.g. 'done', 'in progress'.")] = None,
    priority: Annotated[str | None, Field(max_length=50, description="e.g. 'high'.")] = None,
    next: Annotated[
        list[Annotated[str, Field(min_length=1, max_length=300)]] | None,
        Field(max_length=20, description="Next steps, one sentence each."),
    ] = None,
    path: Annotated[str | None, Field(max_length=500, description="Default: from the path pattern.")] = None,
) -> Annotated[CallToolResult, shapes.WriteResult]:
    require_write(ctx, "save_session")
    given = {"project": project, "title": title, "status": status, "priority": priority}
    fields: dict[str, Any] = {name: _text(value, name) for name, value in given.items() if value is not None}
    if date is not None:
        fields["date"] = date
    if next:
        fields["next"] = [_text(step, "next") for step in next]
    if path is not None:
        _check_path(_text(path, "path"))
    return await _orm(_save_session, _markdown(markdown), fields, path, _caller(ctx))


def _save_session(markdown: str, fields: dict[str, Any], path: str | None, caller: str) -> CallToolResult:
    return _written(
        "Saved",
        lambda: writes.session_create(content=markdown, fields=fields, path=path, requested_by=caller),
    )


async def update_session(
    ctx: Context, id: SessionId, markdown: Markdown, expected_sha: ExpectedSha
) -> Annotated[CallToolResult, shapes.WriteResult]:
    """Replace a session document with markdown. A document sent without front matter keeps
    the current front matter as it is. Refused when the file changed since expected_sha (read
    it again and merge), so nothing written meanwhile is overwritten. To change a few lines,
    use edit_session instead."""
    require_write(ctx, "update_session")
    session_id = _session_id(id)
    markdown = _markdown(markdown)
    caller = _caller(ctx)

    def update() -> writes.WriteOutcome:
        return writes.session_update(
            session_id=session_id, if_match=expected_sha, content=markdown, requested_by=caller,
            keep_front_matter=True,
        )  # fmt: skip

    return await _orm(_written, "Updated", update)


async def edit_session(
    ctx: Context,
    id: SessionId,
    expected_sha: ExpectedSha,
    append: Annotated[
        str | None,
        Field(max_length=64_000, description="A paragraph to add: at the end, or at the end of section."),
    ] = None,
    section: Annotated[
        str | None,
        Field(max_length=300, description="A heading's words, e.g. 'Decided' (any level, any case)."),
    ] = None,
    replace_with: Annotated[
        str | None, Field(max_length=64_000, description="The new text under the heading named by section.")
    ] = None,
    check_step: Annotated[
        str | None, Field(max_length=300, description="An open next step's words: it is checked off.")
    ] = None,
) -> Annotated[CallToolResult, shapes.WriteResult]:
    """Make one small change to a session without resending it: append a paragraph (at the
    end, or at the end of a section), replace the text under a heading (section plus
    replace_with), or check off an open next step (check_step). Give exactly one of append,
    replace_with or check_step. The front matter and every line not edited stay as they are."""
    require_write(ctx, "edit_session")
    session_id = _session_id(id)
    given = {"append": append, "section": section, "replace_with": replace_with, "check_step": check_step}
    edit = writes.Edit(**{name: _text(value, name) for name, value in given.items() if value is not None})
    problem = edit.problem()
    if problem:
        raise ToolError(problem)
    caller = _caller(ctx)

    def change() -> writes.WriteOutcome:
        return writes.session_edit(
            session_id=session_id, if_match=expected_sha, edit=edit, requested_by=caller
        )

    return await _orm(_written, "Edited", change)


async def delete_session(
    ctx: Context, id: SessionId, expected_sha: ExpectedSha
) -> Annotated[CallToolResult, shapes.WriteResult]:
    """Delete a session: its file is removed at the source (one commit; the history keeps it)
    and the session leaves every list. Refused when the file changed since expected_sha."""
    require_write(ctx, "delete_session")
    session_id = _session_id(id)
    caller = _caller(ctx)

    def delete() -> writes.WriteOutcome:
        return writes.session_delete(session_id=session_id, if_match=expected_sha, requested_by=caller)

    return await _orm(_written, "Deleted", delete)


def _session_id(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise ToolError(
            f"id {value[:64]!r} is not a session id; ids look like 3f6c2a9e-8b41-4d7f-9a35-1c0e5b7d2f84."
        ) from None


def _written(verb: str, write: Callable[[], writes.WriteOutcome]) -> CallToolResult:
    try:
        outcome = write()
    except DomainError as exc:  # a write's refusal, or the session is not there
        raise ToolError(refusal(exc)) from None
    queued = outcome.queued
    result = shapes.WriteResult(
        id=str(outcome.session_id),
        path=outcome.path,
        sha=outcome.sha,
        commit=outcome.commit,
        queued=None if queued is None else shapes.Queued(outbox_id=str(queued.pk), status=queued.status),
    )
    if queued is None:
        text = f"{verb} {outcome.path} (id {outcome.session_id}" + (
            f", sha {outcome.sha})." if outcome.sha else ")."
        )
    else:
        text = (
            f"{verb} {outcome.path}: GitHub is unreachable, so the write waits in the outbox and lands later."
        )
    return shapes.respond(result, text)


def refusal(exc: DomainError) -> str:
    """The write path's refusal as one message, its detail said once (never a secret's value)."""
    message = str(exc)
    details = "; ".join(p for problems in exc.errors.values() for p in problems if p not in message)
    return f"{message} ({details})" if details else message


# (function, title, hints, description): the write tools.
TOOLS: list[tuple[Callable[..., Any], str, ToolAnnotations, str | None]] = [
    (save_session, "Save a new session", CREATES, SAVE_DESCRIPTION),
    (edit_session, "Edit a session", EDITS, None),
    (update_session, "Replace a session", REPLACES, None),
    (delete_session, "Delete a session", DELETES, None),
]
