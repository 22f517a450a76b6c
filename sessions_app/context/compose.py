"""Fill a token budget with a project's header, open next steps and sessions (no Django).

Allocation order, which is also what survives a small budget:
1. the header (project name, status, priority), shortened only when it alone is over;
2. the newest session, whole when it fits; otherwise the open next steps go first (at
   most a quarter of the budget) and the newest session is cut at a paragraph boundary
   (then a line, then a word) with a visible marker and a link to the rest;
3. the open next steps, while they fit;
4. older sessions, whole while they fit; from the first that does not, one line each
   (title, state, next) while those fit; the rest are left out.

Every piece is counted with ``count_tokens``, which is subadditive, so the sum of the
pieces bounds the whole: the markdown never exceeds the budget.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any

from .tokens import COUNTER_NAME, count_tokens

__all__ = ["ContextResult", "ContextSession", "ContextStep", "compose_context", "newest_whole_cost"]

_FENCE = re.compile(r"^\s{0,3}(```|~~~)")
_STEPS_SHARE_WHEN_CUT = 4  # next steps may take 1/4 of the budget when the newest session is cut


@dataclass(frozen=True)
class ContextSession:
    """A session as the context shows it; ``text`` is the decrypted document (None: unreadable)."""

    id: str
    title: str
    created_at: datetime
    state: str
    next: str
    url: str
    text: str | None


@dataclass(frozen=True)
class ContextStep:
    """An open next step and the session it comes from."""

    text: str
    session_id: str
    session_title: str
    url: str


@dataclass
class ContextResult:
    """What ``build_context`` returns.

    ``whole``, ``cut``, ``summarized`` (title + state + next only) and ``left_out`` hold
    session ids, newest first; together they are every session considered. ``tokens`` is
    what the pieces of ``markdown`` were charged (by ``counter``): never below the count of
    the whole markdown, never above ``budget_tokens``.
    """

    markdown: str
    tokens: int
    budget_tokens: int
    projects: list[str] = field(default_factory=list)
    whole: list[str] = field(default_factory=list)
    cut: list[str] = field(default_factory=list)
    summarized: list[str] = field(default_factory=list)
    left_out: list[str] = field(default_factory=list)
    next_steps: list[ContextStep] = field(default_factory=list)
    counter: str = COUNTER_NAME

    def as_dict(self) -> dict[str, Any]:
        return {
            "markdown": self.markdown,
            "tokens": self.tokens,
            "budget_tokens": self.budget_tokens,
            "token_counter": self.counter,
            "projects": self.projects,
            "sessions": {
                "whole": self.whole,
                "cut": self.cut,
                "summarized": self.summarized,
                "left_out": self.left_out,
            },
            "next_steps": [step.__dict__ for step in self.next_steps],
        }


class _Budget:
    def __init__(self, total: int) -> None:
        self.left = total

    def take(self, text: str, cost: int | None = None) -> bool:
        """Spend ``cost`` (default: the count of ``text``) if it fits; ``cost`` may only overestimate."""
        cost = count_tokens(text) if cost is None else cost
        if cost > self.left:
            return False
        self.left -= cost
        return True


# Session documents come back at every request: their counts are kept (bounded by maxsize).
_text_tokens = lru_cache(maxsize=2048)(count_tokens)


def _whole_cost(session: ContextSession) -> int:
    """An upper bound of count_tokens(_whole(session)): the sum of its parts' counts."""
    return (
        count_tokens(_title_line(session)) + _text_tokens((session.text or "").strip()) + count_tokens("\n\n")
    )


_SESSIONS_HEADING = "## Sessions, newest first\n\n"
_EARLIER_HEADING = "## Earlier sessions: title, state, next\n\n"


def newest_whole_cost(header: str, session: ContextSession) -> int:
    """Tokens the header plus the newest session whole take: it is included whole when <= budget."""
    return count_tokens(_head(header)) + count_tokens(_SESSIONS_HEADING) + _whole_cost(session)


def compose_context(
    *,
    header: str,
    steps: list[ContextStep],
    sessions: list[ContextSession],
    budget_tokens: int,
    projects: list[str] | None = None,
) -> ContextResult:
    """The context for ``sessions`` (newest first) within ``budget_tokens``.

    Every piece of the markdown is taken from the budget before it is kept, and the
    markdown is exactly the kept pieces joined (trailing whitespace stripped), so its
    count is at most the sum of theirs.
    """
    budget = _Budget(budget_tokens)
    result = ContextResult(markdown="", tokens=0, budget_tokens=budget_tokens, projects=projects or [])
    head = _head(header)
    if not budget.take(head):
        head = _cut_words(head, budget.left)
        budget.take(head)
    newest = sessions[0] if sessions else None
    newest_part = ""
    if newest is not None and newest.text is not None:
        whole = _SESSIONS_HEADING + _whole(newest)
        if budget.take(whole, count_tokens(_SESSIONS_HEADING) + _whole_cost(newest)):
            newest_part = whole
            result.whole.append(newest.id)
    steps_limit = None if newest_part or newest is None else budget_tokens // _STEPS_SHARE_WHEN_CUT
    steps_part = _steps(steps, budget, result, limit=steps_limit)
    if newest is not None and not newest_part and newest.text is not None:
        newest_part = _cut_session(newest, budget)
        if newest_part:
            result.cut.append(newest.id)
    rest = sessions[1:] if newest_part else sessions
    older: list[str] = []
    summaries: list[str] = []
    summarizing = False
    for session in rest:
        if not summarizing and session.text is not None:
            heading = "" if newest_part or older else _SESSIONS_HEADING
            part = heading + _whole(session)
            if budget.take(part, count_tokens(heading) + _whole_cost(session)):
                older.append(part)
                result.whole.append(session.id)
                continue
        summarizing = True
        line = ("" if summaries else _EARLIER_HEADING) + _summary(session)
        if budget.take(line):
            summaries.append(line)
            result.summarized.append(session.id)
        else:
            result.left_out.append(session.id)
    markdown = (head + steps_part + newest_part + "".join(older) + "".join(summaries)).rstrip()
    if markdown and budget.take("\n"):
        markdown += "\n"
    result.markdown = markdown
    # The sum of the pieces' counts: what was charged to the budget, at least count_tokens(markdown)
    # (subadditivity), and cheaper than counting a 150 KB context again.
    result.tokens = budget_tokens - budget.left
    if budget.left < 0:  # cannot happen: take() never overdraws
        raise AssertionError(f"context of {result.tokens} tokens exceeds its budget of {budget_tokens}")
    return result


def _head(header: str) -> str:
    return header.rstrip() + "\n\n"


def _steps(steps: list[ContextStep], budget: _Budget, result: ContextResult, *, limit: int | None) -> str:
    """The open next steps that fit (within ``limit`` tokens when given), as a task list."""
    heading = "## Open next steps\n\n"
    allowance = _Budget(min(budget.left, limit) if limit is not None else budget.left)
    if not steps or not allowance.take(heading):
        return ""
    kept: list[tuple[ContextStep, str]] = []
    for step in steps:
        line = f"- [ ] {_inline(step.text)} (from [{_inline(step.session_title)}]({step.url}))\n"
        if not allowance.take(line):
            break
        kept.append((step, line))
    while kept:  # the blank line closing the list must fit too
        text = heading + "".join(line for _, line in kept) + "\n"
        if count_tokens(text) <= min(
            budget.left, limit if limit is not None else budget.left
        ) and budget.take(text):
            result.next_steps.extend(step for step, _ in kept)
            return text
        kept.pop()
    return ""


def _title_line(session: ContextSession, suffix: str = "") -> str:
    return (
        f"### {_inline(session.title)}\n\n"
        f"_{session.created_at:%Y-%m-%d} · {session.state}{suffix} · [open]({session.url})_\n\n"
    )


def _whole(session: ContextSession) -> str:
    return _title_line(session) + (session.text or "").strip() + "\n\n"


def _summary(session: ContextSession) -> str:
    line = f"- **{_inline(session.title)}** ({session.created_at:%Y-%m-%d}, {session.state})"
    if session.next.strip():
        line += f" — next: {_inline(session.next)}"
    return line + f" [open]({session.url})\n"


def _marker(shown: int, total: int, url: str) -> str:
    return f"> ✂️ **Cut here** ({shown} of {total} tokens shown). Read the rest: [{url}]({url})\n\n"


def _cut_session(session: ContextSession, budget: _Budget) -> str:
    """The session cut to what is left of the budget, with its marker; '' when nothing fits."""
    text = (session.text or "").strip()
    total = _text_tokens(text)
    head = _SESSIONS_HEADING + _title_line(session, " · cut")
    # Reserve the marker at its largest (the shown count has at most as many digits as total).
    reserve = count_tokens(head) + count_tokens(_marker(total, total, session.url)) + count_tokens("\n\n")
    room = budget.left - reserve
    if room < 1:
        return ""
    shown = _cut_text(text, room)
    if not shown:
        return ""
    part = head + shown + "\n\n" + _marker(count_tokens(shown), total, session.url)
    if not budget.take(part):  # cannot happen: the reserve covers it
        return ""
    return part


def _cut_text(text: str, room: int) -> str:
    """The longest prefix of whole paragraphs (then lines, then words) within ``room`` tokens.

    A code fence left open by the cut is closed, and the closing line is counted.
    """
    blocks = _blocks(text)
    taken: list[str] = []
    used = 0
    for block in blocks:
        cost = count_tokens(block + "\n\n") + (count_tokens("\n```") if _opens_fence(block) else 0)
        if used + cost > room:
            break
        taken.append(block)
        used += cost
    if taken:
        return "\n\n".join(taken)
    first = blocks[0] if blocks else ""
    lines: list[str] = []
    fence_cost = count_tokens("\n```\n")
    for line in first.split("\n"):
        cost = count_tokens(line + "\n")
        if used + cost + fence_cost > room:
            break
        lines.append(line)
        used += cost
    if lines:
        shown = "\n".join(lines)
        return shown + ("\n```" if _opens_fence(shown) else "")
    return _cut_words(first, room - fence_cost) if not _opens_fence(first) else ""


def _cut_words(text: str, room: int) -> str:
    words = text.split(" ")
    kept: list[str] = []
    for word in words:
        candidate = " ".join([*kept, word])
        if count_tokens(candidate) > room:
            break
        kept.append(word)
    shown = " ".join(kept).rstrip()
    return shown + "\n\n" if shown and count_tokens(shown + "\n\n") <= room else shown


def _blocks(text: str) -> list[str]:
    """Paragraphs separated by blank lines; a fenced code block is never split."""
    blocks: list[str] = []
    current: list[str] = []
    in_fence = False
    for line in text.split("\n"):
        if _FENCE.match(line):
            in_fence = not in_fence
        if not line.strip() and not in_fence:
            if current:
                blocks.append("\n".join(current))
                current = []
            continue
        current.append(line)
    if current:
        blocks.append("\n".join(current))
    return blocks


def _opens_fence(text: str) -> bool:
    return sum(1 for line in text.split("\n") if _FENCE.match(line)) % 2 == 1


def _inline(text: str) -> str:
    """One line of text (newlines folded) for a title or a list item."""
    return " ".join(text.split())
