"""Fill a token budget with a project's header, open next steps and sessions (no Django).

Allocation order, which is also what survives a small budget:
1. the header (project name, status, priority), shortened only when it alone is over;
2. the newest session, whole when it fits; then a line saying what was left out is
   reserved at its largest; otherwise the open next steps go first (at
   most a quarter of the budget) and the newest session is cut at a paragraph boundary
   (then a line, then a word) with a visible marker and a link to the rest;
3. the open next steps, while they fit;
4. older sessions, whole while they fit; from the first that does not, one line each
   (title, state, next) while those fit; the rest are left out;
5. what is still free goes to excerpts of the sessions shown as one line, newest first,
   so the budget is used (at least 85% of it when there is material for it);
6. the line saying what was left out: "12 more sessions and 4 more open steps; ...".

Every piece is charged ``piece_cost`` (its real count plus a token for the boundary), so
the markdown never exceeds the budget by any of the three tokenizers; an optional
``budget_chars`` bounds its length too, in UTF-16 code units as JavaScript counts them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from .tokens import BOUNDARY, COUNTER_NAME, count_tokens, count_within, piece_cost, prefix_within

__all__ = ["ContextResult", "ContextSession", "ContextStep", "compose_context", "newest_whole_cost"]

_FENCE = re.compile(r"^\s{0,3}(```|~~~)")
_ASTRAL = re.compile("[\U00010000-\U0010ffff]")
_STEPS_SHARE_WHEN_CUT = 4  # next steps may take 1/4 of the budget when the newest session is cut
_MIN_EXCERPT = 80  # tokens: below this, free budget is not worth an excerpt
_SNAP_KEEP = 0.6  # a cut moves back to a paragraph (or line) end only if it keeps 60% of the text


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
    undated: bool = False


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
    what the pieces of ``markdown`` were charged (by ``counter``): never below the real
    count of the whole markdown by any of its tokenizers, never above ``budget_tokens``.
    ``more_sessions`` and ``more_steps`` count what the context did not show at all.
    """

    markdown: str
    tokens: int
    budget_tokens: int
    budget_chars: int | None = None
    projects: list[str] = field(default_factory=list)
    whole: list[str] = field(default_factory=list)
    cut: list[str] = field(default_factory=list)
    summarized: list[str] = field(default_factory=list)
    left_out: list[str] = field(default_factory=list)
    next_steps: list[ContextStep] = field(default_factory=list)
    more_sessions: int = 0
    more_steps: int = 0
    counter: str = COUNTER_NAME

    def as_dict(self) -> dict[str, Any]:
        return {
            "markdown": self.markdown,
            "tokens": self.tokens,
            "budget_tokens": self.budget_tokens,
            "budget_chars": self.budget_chars,
            "token_counter": self.counter,
            "projects": self.projects,
            "sessions": {
                "whole": self.whole,
                "cut": self.cut,
                "summarized": self.summarized,
                "left_out": self.left_out,
            },
            "next_steps": [step.__dict__ for step in self.next_steps],
            "more_sessions": self.more_sessions,
            "more_steps": self.more_steps,
        }


def utf16_length(text: str) -> int:
    """Length as JavaScript (Claude Code) counts it: astral characters are two units."""
    return len(text) + len(_ASTRAL.findall(text))


class _Budget:
    def __init__(self, tokens: int, chars: int | None) -> None:
        self.left = tokens
        self.chars_left = chars

    def take(self, text: str, cost: int | None = None) -> bool:
        """Spend ``cost`` (default: ``piece_cost(text)``) if it fits; ``cost`` may only overestimate."""
        if not text:
            return True
        cost = piece_cost(text) if cost is None else cost
        length = utf16_length(text) if self.chars_left is not None else 0
        if cost > self.left or (self.chars_left is not None and length > self.chars_left):
            return False
        self.left -= cost
        if self.chars_left is not None:
            self.chars_left -= length
        return True

    def give_back(self, text: str, cost: int) -> None:
        self.left += cost
        if self.chars_left is not None:
            self.chars_left += utf16_length(text)

    def fits_chars(self, text: str) -> bool:
        return self.chars_left is None or utf16_length(text) <= self.chars_left


_SESSIONS_HEADING = "## Sessions, newest first\n\n"
_EARLIER_HEADING = "## Earlier sessions: title, state, next\n\n"


def _whole_cost(session: ContextSession, limit: int) -> int:
    """An upper bound of the cost of ``_whole(session)``; above ``limit`` when it does not fit."""
    text_cost = count_within((session.text or "").strip(), limit) + BOUNDARY
    return piece_cost(_title_line(session)) + text_cost + piece_cost("\n\n")


def newest_whole_cost(header: str, session: ContextSession) -> int:
    """Tokens the header plus the newest session whole take: it is included whole when they fit."""
    return piece_cost(_head(header)) + piece_cost(_SESSIONS_HEADING) + _whole_cost(session, 10**9)


def compose_context(
    *,
    header: str,
    steps: list[ContextStep],
    sessions: list[ContextSession],
    budget_tokens: int,
    budget_chars: int | None = None,
    projects: list[str] | None = None,
    more_sessions: int = 0,
) -> ContextResult:
    """The context for ``sessions`` (newest first) within ``budget_tokens`` (and ``budget_chars``).

    ``more_sessions`` counts sessions that were not even considered (beyond the window),
    for the closing line on what was left out. Every piece of the markdown is taken from
    the budget before it is kept, and the markdown is exactly the kept pieces joined.
    """
    budget = _Budget(budget_tokens, budget_chars)
    result = ContextResult(
        markdown="", tokens=0, budget_tokens=budget_tokens, budget_chars=budget_chars, projects=projects or []
    )
    note_reserve = _omitted(len(sessions) + more_sessions, len(steps))
    head = _head(header)
    if not budget.take(head):
        head = _cut_words(head, budget)
    newest = sessions[0] if sessions else None
    newest_part = ""
    if newest is not None and newest.text is not None:
        whole = _SESSIONS_HEADING + _whole(newest)
        cost = piece_cost(_SESSIONS_HEADING) + _whole_cost(newest, budget.left)
        if budget.fits_chars(whole) and budget.take(whole, cost):
            newest_part = whole
            result.whole.append(newest.id)
    reserved = budget.take(note_reserve)
    steps_limit = None if newest_part or newest is None else budget_tokens // _STEPS_SHARE_WHEN_CUT
    steps_part = _steps(steps, budget, result, limit=steps_limit)
    if newest is not None and not newest_part and newest.text is not None:
        newest_part = _cut_session(newest, budget, _SESSIONS_HEADING)
        if newest_part:
            result.cut.append(newest.id)
    rest = sessions[1:] if newest_part else sessions
    older, summaries = _older(rest, budget, result, headed=bool(newest_part))
    older += _excerpts(rest, summaries, budget, result, headed=bool(newest_part or older))
    if reserved:
        budget.give_back(note_reserve, piece_cost(note_reserve))
    result.more_sessions = len(result.left_out) + more_sessions
    result.more_steps = len(steps) - len(result.next_steps)
    note = _omitted(result.more_sessions, result.more_steps)
    if not (note and budget.take(note)):
        note = ""
    listed = _EARLIER_HEADING + "".join(summaries[s] for s in result.summarized) if summaries else ""
    markdown = (head + steps_part + newest_part + "".join(older) + listed + note).rstrip()
    if markdown and budget.take("\n", count_tokens("\n")):
        markdown += "\n"
    result.markdown = markdown
    result.tokens = budget_tokens - budget.left
    if budget.left < 0:  # cannot happen: take() never overdraws
        raise AssertionError(f"context of {result.tokens} tokens exceeds its budget of {budget_tokens}")
    return result


def _older(
    rest: list[ContextSession], budget: _Budget, result: ContextResult, *, headed: bool
) -> tuple[list[str], dict[str, str]]:
    """Older sessions whole while they fit, then one line each; returns the parts and the lines.

    The lines' heading is charged with the first line and given back when no line stays.
    """
    older: list[str] = []
    summaries: dict[str, str] = {}
    summarizing = False
    listed = False
    for session in rest:
        if not summarizing and session.text is not None:
            heading = "" if headed or older else _SESSIONS_HEADING
            part = heading + _whole(session)
            cost = piece_cost(heading) + _whole_cost(session, budget.left)
            if budget.fits_chars(part) and budget.take(part, cost):
                older.append(part)
                result.whole.append(session.id)
                continue
        summarizing = True
        listed = listed or budget.take(_EARLIER_HEADING)
        line = _summary(session)
        if listed and budget.take(line):
            summaries[session.id] = line
            result.summarized.append(session.id)
        else:
            result.left_out.append(session.id)
    if listed and not summaries:
        budget.give_back(_EARLIER_HEADING, piece_cost(_EARLIER_HEADING))
    return older, summaries


def _excerpts(
    rest: list[ContextSession],
    summaries: dict[str, str],
    budget: _Budget,
    result: ContextResult,
    *,
    headed: bool,
) -> list[str]:
    """Free budget becomes cut excerpts of the sessions listed as one line, newest first."""
    parts: list[str] = []
    had_lines = bool(summaries)
    for session in rest:
        if session.id not in summaries or session.text is None or budget.left < _MIN_EXCERPT:
            continue
        line = summaries[session.id]
        budget.give_back(line, piece_cost(line))
        part = _cut_session(session, budget, "" if headed or parts else _SESSIONS_HEADING)
        if not part:
            budget.take(line, piece_cost(line))  # it fitted before: it fits again
            continue
        del summaries[session.id]
        result.summarized.remove(session.id)
        result.cut.append(session.id)
        parts.append(part)
    if had_lines and not summaries:  # every line became an excerpt: the list's heading goes
        budget.give_back(_EARLIER_HEADING, piece_cost(_EARLIER_HEADING))
    return parts


def _omitted(sessions: int, steps: int) -> str:
    """The closing line on what the context did not show ('' when it showed everything)."""
    said = []
    if sessions:
        said.append(f"{sessions:,} more session{'s' if sessions != 1 else ''}")
    if steps:
        said.append(f"{steps:,} more open step{'s' if steps != 1 else ''}")
    if not said:
        return ""
    return f"_Not shown: {' and '.join(said)}; call `recent_activity` or `next_steps` for them._\n\n"


def _head(header: str) -> str:
    return header.rstrip() + "\n\n"


def _steps(steps: list[ContextStep], budget: _Budget, result: ContextResult, *, limit: int | None) -> str:
    """The open next steps that fit (within ``limit`` tokens when given), as a task list."""
    heading = "## Open next steps\n\n"
    start = min(budget.left, limit) if limit is not None else budget.left
    allowance = _Budget(start, budget.chars_left)
    if not steps or not allowance.take(heading):
        return ""
    kept: list[str] = []
    for step in steps:
        line = f"- [ ] {_inline(step.text)} (from [{_inline(step.session_title)}]({step.url}))\n"
        if not allowance.take(line):
            break
        kept.append(line)
        result.next_steps.append(step)
    if not kept or not allowance.take("\n"):
        result.next_steps.clear()
        return ""
    text = heading + "".join(kept) + "\n"
    budget.take(text, start - allowance.left)  # the sum of its pieces' costs, which fitted
    return text


def _title_line(session: ContextSession, suffix: str = "") -> str:
    when = "undated" if session.undated else f"{session.created_at:%Y-%m-%d}"
    return f"### {_inline(session.title)}\n\n_{when} · {session.state}{suffix} · [open]({session.url})_\n\n"


def _whole(session: ContextSession) -> str:
    return _title_line(session) + (session.text or "").strip() + "\n\n"


def _summary(session: ContextSession) -> str:
    when = "undated" if session.undated else f"{session.created_at:%Y-%m-%d}"
    line = f"- **{_inline(session.title)}** ({when}, {session.state})"
    if session.next.strip():
        line += f" — next: {_inline(session.next)}"
    return line + f" [open]({session.url})\n"


def _marker(shown: int, percent: int, url: str) -> str:
    return (
        f"> ✂️ **Cut here** ({shown:,} tokens shown, {percent}% of the document). "
        f"Read the rest: [{url}]({url})\n\n"
    )


def _cut_session(session: ContextSession, budget: _Budget, heading: str) -> str:
    """The session cut to what is left of the budget, with its marker; '' when nothing fits."""
    text = (session.text or "").strip()
    head = heading + _title_line(session, " · cut")
    widest = _marker(budget.left, 100, session.url)  # at most as many digits as budget.left
    room = budget.left - piece_cost(head) - piece_cost(widest) - piece_cost("\n\n") - BOUNDARY
    chars = None
    if budget.chars_left is not None:
        chars = budget.chars_left - utf16_length(head + widest + "\n\n")
    if room < 1 or (chars is not None and chars < 1):
        return ""
    shown = _cut_text(text, room, chars)
    if not shown:
        return ""
    percent = max(1, min(99, round(100 * len(shown) / max(1, len(text)))))
    marker = _marker(count_tokens(shown), percent, session.url)
    part = head + shown + "\n\n" + marker
    cost = piece_cost(head) + piece_cost(shown) + piece_cost("\n\n") + piece_cost(marker)
    if not budget.take(part, cost):  # cannot happen: the reserve covers it
        return ""
    return part


def _cut_text(text: str, room: int, chars: int | None) -> str:
    """A prefix within ``room`` tokens (and ``chars``), ended at a paragraph, else a line, else a word.

    Linear in what it reads (``prefix_within``). A code fence left open is closed, and the
    closing line was reserved.
    """
    fence = "\n```"
    room -= piece_cost(fence) + BOUNDARY
    if chars is not None:
        room_chars = chars - len(fence)
        if room_chars < 1:
            return ""
        text = text[: _fit_utf16(text, room_chars)]
    prefix = prefix_within(text, room)
    if not prefix:
        return ""
    end = _snap(text, len(prefix))
    shown = text[:end].rstrip()
    return shown + fence if _opens_fence(shown) else shown


def _snap(text: str, end: int) -> int:
    """``end``, moved back to a paragraph end (else a line end) when that keeps most of the text."""
    if end >= len(text):
        return end
    for boundary in ("\n\n", "\n"):
        found = text.rfind(boundary, 0, end + 1)
        if found >= end * _SNAP_KEEP:
            return found
    return end


def _fit_utf16(text: str, units: int) -> int:
    """The most characters of ``text`` whose UTF-16 length is at most ``units``."""
    head = text[: max(0, units)]  # every character is at least one unit
    if not _ASTRAL.search(head):
        return len(head)
    count = 0
    for index, char in enumerate(head):
        count += 2 if ord(char) > 0xFFFF else 1
        if count > units:
            return index
    return len(head)


def _cut_words(text: str, budget: _Budget) -> str:
    """A header cut to what the budget holds (it alone was over)."""
    room_chars = budget.chars_left
    if room_chars is not None:
        text = text[: _fit_utf16(text, max(0, room_chars - 2))]
    shown = prefix_within(text, budget.left - piece_cost("\n\n"))
    shown = shown + "\n\n" if shown else ""
    return shown if shown and budget.take(shown) else ""


def _opens_fence(text: str) -> bool:
    return sum(1 for line in text.split("\n") if _FENCE.match(line)) % 2 == 1


def _inline(text: str) -> str:
    """One line of text (newlines folded) for a title or a list item."""
    return " ".join(text.split())
