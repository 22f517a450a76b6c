"""The budgets a context is built within: the bounds, the clients' presets, and the check of
what a request asks for (``context_limits``), before any session is read."""

from __future__ import annotations

from dataclasses import dataclass

from annoris.errors import DomainError

MIN_BUDGET = 50
MAX_BUDGET = 50_000
DEFAULT_BUDGET = 2_500
MIN_CHARS = 500
MAX_CHARS = 400_000


@dataclass(frozen=True)
class ClientPreset:
    """What one assistant client can take at the start of a session."""

    budget_tokens: int
    budget_chars: int | None
    why: str


CLIENT_PRESETS = {
    # Claude Code shows a SessionStart hook's first 10,000 characters; the rest is a 2 KB preview.
    "claude-code": ClientPreset(10_000, 9_500, "Claude Code's SessionStart hook shows 10,000 characters"),
    # Codex's hooks cut their output at 2,500 tokens by default.
    "codex": ClientPreset(2_500, None, "Codex cuts hook output at 2,500 tokens"),
    # ChatGPT connectors state no cap; a moderate context that leaves room for the conversation.
    "chatgpt": ClientPreset(4_000, None, "a moderate context for ChatGPT connectors"),
}


class BudgetOutOfRange(DomainError, ValueError):
    """``budget_tokens`` or ``budget_chars`` is out of range, or ``client`` is unknown (400)."""

    status_code = 400
    code = "invalid"


def context_limits(
    budget_tokens: int | None = None, budget_chars: int | None = None, client: str | None = None
) -> tuple[int, int | None]:
    """The token and character budgets asked for: explicit values win over ``client``'s preset.

    Raises BudgetOutOfRange (tokens MIN_BUDGET..MAX_BUDGET, characters MIN_CHARS..MAX_CHARS,
    client one of CLIENT_PRESETS).
    """
    preset = None
    if client is not None:
        preset = CLIENT_PRESETS.get(client)
        if preset is None:
            raise BudgetOutOfRange(f"client must be one of {', '.join(CLIENT_PRESETS)}")
    if budget_tokens is None:
        budget_tokens = preset.budget_tokens if preset else DEFAULT_BUDGET
    if budget_chars is None and preset is not None:
        budget_chars = preset.budget_chars
    for value, name in ((budget_tokens, "budget_tokens"), (budget_chars, "budget_chars")):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
            raise BudgetOutOfRange(f"{name} must be an integer")
    if not MIN_BUDGET <= budget_tokens <= MAX_BUDGET:
        raise BudgetOutOfRange(f"budget_tokens must be between {MIN_BUDGET} and {MAX_BUDGET}")
    if budget_chars is not None and not MIN_CHARS <= budget_chars <= MAX_CHARS:
        raise BudgetOutOfRange(f"budget_chars must be between {MIN_CHARS} and {MAX_CHARS}")
    return budget_tokens, budget_chars
