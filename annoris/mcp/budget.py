"""How big an MCP tool's answer may be, counted as the model counts it (issue #15).

A client shows the model either the text block or the structuredContent, so each is
counted on its own and each must fit the tool's budget. ``tokens`` is the one place the
count comes from: today the context's conservative estimate, which is never below a real
tokenizer's count on our corpora; when ``sessions_app.context.tokens.count_tokens`` counts
with real tokenizers, it is still this one line.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from mcp.types import CallToolResult, TextContent
from pydantic import BaseModel

from sessions_app.context.tokens import count_tokens

# Tokens per answer. Claude Code cuts a tool's output at 25,000 tokens; lists stay far below.
LIST_PROJECTS = 4_000  # the issue asks for < 5,000 with 300 projects
RECENT_ACTIVITY = 1_800  # the issue asks for < 2,000 by default
NEXT_STEPS = 3_000
READ_SESSION = 20_000
SEARCH = 8_000
DEFAULT_CONTEXT = 2_500
MIN_CONTEXT, MAX_CONTEXT = 200, 50_000  # over MCP the answer's JSON takes ~100 tokens of its own

# get_context presets: what a client shows of a tool's or hook's output.
CLIENT_PRESETS: dict[str, dict[str, int]] = {
    "claude-code": {"budget_chars": 10_000},  # SessionStart hook output: 10,000 characters shown
    "codex": {"budget_tokens": 2_500},  # Codex's hook default
    "chatgpt": {"budget_tokens": 8_000},  # no published cap: a context that leaves room to work
}


def tokens(text: str) -> int:
    """The tokens ``text`` is charged (the larger of the real counts, or a bound above them)."""
    return count_tokens(text)


def json_text(value: Any) -> str:
    """``value`` as the JSON a client receives (UTF-8, not ASCII-escaped)."""
    return json.dumps(value, ensure_ascii=False)


def json_tokens(value: Any) -> int:
    return tokens(json_text(value))


def fits(budget: int, text: str, structured: Any) -> bool:
    """True when the text block and the structuredContent each fit ``budget``."""
    return tokens(text) <= budget and json_tokens(structured) <= budget


def largest_page(
    count: int, limit: int, build: Callable[[int], tuple[BaseModel, str]], *, least: int = 1
) -> CallToolResult:
    """The answer of the first ``k`` items, for the largest ``k <= count`` whose text and JSON
    both fit ``limit`` (at least ``least`` items, even over). ``build(k)`` gives the model and
    the text of k items; fewer items never cost more, so a binary search finds ``k`` in
    log2(count) builds instead of one build per item dropped."""

    def fits_with(k: int) -> bool:
        model, text = build(k)
        return fits(limit, text, model.model_dump(mode="json"))

    low, high = min(least, count), count
    if not fits_with(high):
        high -= 1
        while low < high:
            middle = (low + high + 1) // 2
            if fits_with(middle):
                low = middle
            else:
                high = middle - 1
    model, text = build(max(low, high))  # low when not even ``least`` items fit
    return CallToolResult(
        content=[TextContent(type="text", text=text)], structured_content=model.model_dump(mode="json")
    )


def cut(text: str, limit: int) -> str:
    """The longest start of ``text`` within ``limit`` tokens, ending at a line break when one is
    near (the whole text when it fits)."""
    if tokens(text) <= limit:
        return text
    low, high = 0, len(text)
    while low < high:  # the longest prefix that fits: tokens() grows with the prefix
        middle = (low + high + 1) // 2
        if tokens(text[:middle]) <= limit:
            low = middle
        else:
            high = middle - 1
    line = text.rfind("\n", 0, low)
    return text[: line + 1] if line > low // 2 else text[:low]


def context_budget(
    budget_tokens: int | None, budget_chars: int | None, client: str | None
) -> tuple[int, int | None]:
    """(tokens, characters or None) for get_context: given values win over the client's preset."""
    preset = CLIENT_PRESETS.get(client or "", {})
    chars = budget_chars if budget_chars is not None else preset.get("budget_chars")
    given = budget_tokens if budget_tokens is not None else preset.get("budget_tokens")
    if given is None:
        # Characters only: start from two characters a token (dense text, Cyrillic) and let the
        # caller shrink the context until it is within the characters too.
        given = max(MIN_CONTEXT, min(MAX_CONTEXT, chars // 2)) if chars is not None else DEFAULT_CONTEXT
    return given, chars
