"""What each MCP tool answers: its output schema (pydantic models) and one text block.

Every tool declares an ``outputSchema`` from these models and answers ``structuredContent``
(the model's JSON) plus ONE text block for clients that read only text: a compact rendering
for a reader, not the JSON again. Each of the two is counted on its own against the tool's
budget (``budget.py``), since a client shows the model one or the other.
"""

from __future__ import annotations

from typing import Annotated

from mcp.types import CallToolResult, TextContent
from pydantic import BaseModel, Field

State = Annotated[str, Field(description="done, in_progress, blocked, planned or unknown.")]


def respond(model: BaseModel, text: str) -> CallToolResult:
    """The tool result: ``model`` as structuredContent and ``text`` as the one text block."""
    return CallToolResult(
        content=[TextContent(type="text", text=text)],
        structured_content=model.model_dump(mode="json"),
    )


class SessionSummary(BaseModel):
    """A session as lists show it."""

    id: str = Field(description="The session id; read it with read_session or annoris://sessions/{id}.")
    title: str
    project: str | None
    date: str = Field(description="The session's date, YYYY-MM-DD.")
    state: State
    status: str = Field(description="The status as written in the document.")
    next: str = Field(description="The document's Next field ('' when it has none).")


class SessionRead(SessionSummary):
    """read_session: a whole session document with its metadata."""

    priority: str
    path: str = Field(description="The file's path in the repository.")
    sha: str = Field(
        description="Its git blob SHA: the expected_sha of update_session, edit_session and delete_session."
    )
    served_by: str = Field(description="The layer that answered: cache, database, github or local.")
    elapsed_ms: float
    markdown: str = Field(description="The document, or its first part when truncated.")
    truncated: bool = Field(description="True when the document was longer than one answer may be.")
    next_offset: int | None = Field(description="Pass as offset to read the rest; null at the end.")


class ProjectRow(BaseModel):
    id: str
    name: str
    status: str
    priority: int
    session_count: int
    last_activity: str | None = Field(description="The date of its newest session, YYYY-MM-DD.")


class ProjectsPage(BaseModel):
    """list_projects: one page, most recently active first."""

    projects: list[ProjectRow]
    total: int = Field(description="How many projects there are in all.")
    next_cursor: str | None = Field(description="Pass as cursor for the next page; null on the last page.")


class Step(BaseModel):
    text: str
    session_id: str
    session_title: str
    date: str


class ActivityItem(BaseModel):
    id: str
    title: str
    project: str | None
    date: str
    state: State
    next: str


class Activity(BaseModel):
    """recent_activity: what happened lately, small: titles, dates, states and next steps."""

    sessions: list[ActivityItem] = Field(description="Newest first.")
    open_steps: list[Step] = Field(description="Next steps these sessions leave open, newest first.")
    more_sessions: int = Field(description="Sessions in the window not shown (raise limit or narrow since).")
    more_steps: int = Field(description="Open steps not shown.")


class StepsList(BaseModel):
    """next_steps: a project's open next steps."""

    project: str
    next_steps: list[Step]
    more: int = Field(description="Open steps left out to keep the answer small.")


class SearchResult(BaseModel):
    id: str
    title: str
    project: str | None
    date: str
    state: State
    snippet: str


class SearchResults(BaseModel):
    """search_sessions: the best matches first."""

    results: list[SearchResult]
    total: int = Field(description="How many sessions match in all (at least, when total_exact is false).")
    total_exact: bool = Field(
        default=True,
        description="False when the count stopped at 1,000 (a lower bound): words each held by "
        "1,000 sessions or more, over 1,000 holding them all.",
    )
    offset: int = Field(default=0, description="Results skipped before these (paging).")
    ignored: list[str] = Field(default_factory=list, description="Parts of the query that were not honoured.")
    incomplete: bool = Field(default=False, description="True while some sessions wait to be indexed.")
    waiting_to_index: int = Field(default=0, description="Sessions not yet searchable.")


class ContextCounts(BaseModel):
    whole: int
    cut: int
    summarized: int
    left_out: int


class Context(BaseModel):
    """get_context: the start-of-session context as markdown, with what it holds."""

    markdown: str = Field(description="The context; session links are annoris://sessions/{id} resources.")
    tokens: int = Field(description="Tokens the markdown was charged (never above budget_tokens).")
    budget_tokens: int
    token_counter: str
    projects: list[str]
    sessions: ContextCounts = Field(description="Sessions included whole, cut, as one line, or left out.")


class SyncRun(BaseModel):
    id: str
    started_at: str
    finished_at: str | None
    trigger: str
    status: str
    files_synced: int
    errors: int
    revision: str | None


class SyncStatus(BaseModel):
    """sync_status: the last sync and the drift between the database and the repository."""

    last_sync: SyncRun | None
    last_successful_sync: SyncRun | None
    running_since: str | None
    drift: dict[str, int | float | str | bool | None] = Field(
        description="Counts of files out of step, by kind."
    )


class Queued(BaseModel):
    outbox_id: str
    status: str


class WriteResult(BaseModel):
    """What a write did: landed (commit set) or waiting in the outbox for GitHub (queued set)."""

    id: str
    path: str
    sha: str | None = Field(
        description="The file's blob SHA now (or once the queued write lands); null after a delete."
    )
    commit: str | None
    queued: Queued | None
