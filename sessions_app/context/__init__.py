"""The token-budgeted start-of-session context and the open next steps (issue #8).

Public API (used by the REST views and the MCP tools)::

    build_context(project=None, budget_tokens=2500, *, link_base="") -> ContextResult
    project_next_steps(project, *, sessions=None, link_base="") -> list[NextStep]
    count_tokens(text) -> int
"""

from __future__ import annotations

from .compose import ContextResult, ContextSession, ContextStep
from .service import (
    DEFAULT_BUDGET,
    MAX_BUDGET,
    MIN_BUDGET,
    BudgetOutOfRange,
    NextStep,
    ProjectNotFound,
    build_context,
    project_next_steps,
    resolve_project,
)
from .tokens import COUNTER_NAME, count_tokens

__all__ = [
    "COUNTER_NAME",
    "DEFAULT_BUDGET",
    "MAX_BUDGET",
    "MIN_BUDGET",
    "BudgetOutOfRange",
    "ContextResult",
    "ContextSession",
    "ContextStep",
    "NextStep",
    "ProjectNotFound",
    "build_context",
    "count_tokens",
    "project_next_steps",
    "resolve_project",
]
