"""The token-budgeted start-of-session context and the open next steps (issue #8).

Public API (used by the REST views and the MCP tools)::

    build_context(project=None, budget_tokens=None, *, budget_chars=None, client=None,
                  link_base="", links=None) -> ContextResult
    context_composer(project=None, *, link_base="", links=None)   # read once, compose often:
        -> (budget_tokens, budget_chars) -> ContextResult
    context_limits(budget_tokens=None, budget_chars=None, client=None) -> (tokens, chars)
    resource_link(session_id) -> "annoris://sessions/{id}"   # links= for MCP
    project_next_steps(project, *, sessions=None, link_base="") -> list[NextStep]
    count_tokens(text) -> int   # max of cl100k_base, o200k_base and Claude's count
    NEWEST_FIRST                # order_by() for "newest first, undated last"
"""

from __future__ import annotations

from .compose import ContextResult, ContextSession, ContextStep
from .service import (
    CLIENT_PRESETS,
    DEFAULT_BUDGET,
    MAX_BUDGET,
    MAX_CHARS,
    MIN_BUDGET,
    MIN_CHARS,
    NEWEST_FIRST,
    BudgetOutOfRange,
    NextStep,
    ProjectNotFound,
    build_context,
    context_composer,
    context_limits,
    project_next_steps,
    resolve_project,
    resource_link,
)
from .tokens import COUNTER_NAME, count_tokens

__all__ = [
    "CLIENT_PRESETS",
    "COUNTER_NAME",
    "DEFAULT_BUDGET",
    "MAX_BUDGET",
    "MAX_CHARS",
    "MIN_BUDGET",
    "MIN_CHARS",
    "NEWEST_FIRST",
    "BudgetOutOfRange",
    "ContextResult",
    "ContextSession",
    "ContextStep",
    "NextStep",
    "ProjectNotFound",
    "build_context",
    "context_composer",
    "context_limits",
    "count_tokens",
    "project_next_steps",
    "resolve_project",
    "resource_link",
]
