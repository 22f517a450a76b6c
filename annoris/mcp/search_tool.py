"""The search_sessions tool: hybrid search over MCP, a page of hits within the search budget,
saying what of the query was ignored and how many sessions still wait to be indexed."""

from __future__ import annotations

from typing import Annotated

from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import CallToolResult
from pydantic import Field

from annoris.mcp import budget, shapes
from annoris.mcp.tools import (
    MAX_LIMIT,
    MAX_QUERY_CHARS,
    ProjectRef,
    _optional,
    _orm,
    _project,
    _text,
    session_uri,
)
from sessions_app import search as session_search


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
            total_exact=searched.total_exact,
            offset=offset,
            ignored=searched.ignored,
            incomplete=searched.waiting > 0,
            waiting_to_index=searched.waiting,
        )
        many = "1 session matches" if total == 1 else f"{total} sessions match"
        if not searched.total_exact:
            many = f"At least {total} sessions match"
        lines = [f"{many}; best first:" if total else "No session matches."]
        if result.ignored:
            lines.append(f"Ignored: {'; '.join(result.ignored)}.")
        if result.incomplete:
            waiting = (
                "1 session still waits"
                if searched.waiting == 1
                else f"{searched.waiting} sessions still wait"
            )
            lines.append(f"Incomplete: {waiting} to be indexed.")
        for r in result.results:
            lines.append(
                f"- {r.title} ({r.project or 'no project'}, {r.date}, {r.state}) <{session_uri(r.id)}>"
            )
            lines.append(f"  {' '.join(r.snippet.split())}")
        return result, "\n".join(lines)

    return budget.largest_page(len(results), budget.SEARCH, answer)
