"""How big an MCP tool's answer may be, counted as the model counts it (issue #15).

A client shows the model either the text block or the structuredContent, so each is
counted on its own and each must fit the tool's budget. ``tokens`` is the one place the
count comes from: the context's ``count_tokens``, the largest of the cl100k_base,
o200k_base and Claude counts.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from mcp.types import CallToolResult, TextContent
from pydantic import BaseModel

from sessions_app.context.tokens import count_tokens, prefix_within

# Tokens per answer. Claude Code cuts a tool's output at 25,000 tokens; lists stay far below.
LIST_PROJECTS = 4_000  # the issue asks for < 5,000 with 300 projects
RECENT_ACTIVITY = 1_800  # the issue asks for < 2,000 by default
NEXT_STEPS = 3_000
READ_SESSION = 20_000
SEARCH = 8_000
MIN_CONTEXT = 200  # over MCP the answer's JSON takes ~100 tokens of its own
JSON_FIELDS = 60  # get_context's fields beside the markdown, in tokens


def tokens(text: str) -> int:
    """The tokens ``text`` is charged: the largest of the real counts."""
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
    """The longest start of ``text`` within ``limit`` tokens, at a word boundary (the whole text
    when it fits): the context's linear ``prefix_within``, counted by the same tokenizers."""
    part = prefix_within(text, limit)
    if not part and text:  # one "word" longer than the budget (a blob): cut inside it
        part = text[: max(1, limit // 4)]  # no character is more than 4 tokens
    return part
