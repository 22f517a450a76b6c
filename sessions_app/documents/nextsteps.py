"""Next steps written in a session document, and the ones it closes.

A session names its next steps in three ways: the ``Next`` field, the items of a section
headed "Next", "Next steps", "Next actions", "TODO", "Следующие шаги", "Дальше" and the
like, and unchecked task items (``- [ ] ...``) anywhere. It closes a step by checking it
(``- [x] ...``), marking it ✅ (or ✔️ ☑️), striking it through, or listing it under a
"Done" / "Сделано" heading or with "done" / "сделано" after it.

Items are compared by ``key``: folded words without markdown or emoji, so "**Deploy** the
worker ✅" closes "- [ ] deploy the worker". Pure Python, no Django.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import TypeVar

from .fields import front_matter
from .folding import fold, words

__all__ = ["StepMentions", "extract_steps", "open_steps", "step_key"]

MAX_ITEM_CHARS = 300
MAX_ITEMS_PER_DOCUMENT = 200

T = TypeVar("T")
_HEADING = re.compile(r"^\s{0,3}(?P<hashes>#{1,6})\s+(?P<text>.*?)\s*#*\s*$")
# "**Next steps:**" or "**Следующие шаги**:" alone on a line acts as a heading.
_BOLD_HEADING = re.compile(r"^\s*\*\*(?P<text>[^*]+?)\s*:?\s*\*\*\s*:?\s*$")
_ITEM = re.compile(r"^\s*(?:[-*+]|\d{1,3}[.)])\s+(?P<text>.+?)\s*$")
_TASK = re.compile(r"^\s*(?:[-*+]|\d{1,3}[.)])\s+\[(?P<mark>[ xX])\]\s+(?P<text>.+?)\s*$")
_FENCE = re.compile(r"^\s{0,3}(```|~~~)")
_RULE = re.compile(r"^\s{0,3}([-*_])(\s*\1){2,}\s*$")
_DONE_MARKS = ("✅", "✔", "☑")
_STRUCK = re.compile(r"^~~.+~~$")
_DONE_SUFFIX = re.compile(r"[\s(—–:-]+(done|сделано|готово|выполнено)[\s).!]*$", re.IGNORECASE)
_NEXT_HEADINGS = frozenset(
    {
        "next",
        "next step",
        "next steps",
        "next actions",
        "next action",
        "next up",
        "up next",
        "todo",
        "to do",
        "todos",
        "what s next",
        "whats next",
        "следующие шаги",
        "следующий шаг",
        "следующие действия",
        "дальше",
        "что дальше",
        "план",
        "планы",
        "далее",
        "todo list",
    }
)
_DONE_HEADINGS = frozenset(
    {"done", "completed", "finished", "сделано", "готово", "выполнено", "что сделано", "итоги"}
)


@dataclass(frozen=True)
class StepMentions:
    """What one document says about next steps: items left open and items it closes.

    ``open`` keeps the order of the document and the first wording of each item;
    ``closed`` holds keys (see ``step_key``).
    """

    open: tuple[str, ...]
    closed: frozenset[str]


@lru_cache(maxsize=16384)
def step_key(text: str) -> str:
    """The identity of a step: its folded words joined by spaces ('' when it has none)."""
    return " ".join(words(_strip_markup(text)))


def extract_steps(text: str, *, next_field: str = "") -> StepMentions:
    """The open and closed steps of one document (``next_field``: its parsed ``Next`` value)."""
    _, body = front_matter_or_text(text)
    opened: dict[str, str] = {}
    closed: set[str] = set()

    def add_open(item: str) -> None:
        clean = _clean(item)
        key = step_key(clean)
        if key and key not in opened and len(opened) < MAX_ITEMS_PER_DOCUMENT:
            opened[key] = clean

    if next_field.strip():
        add_open(next_field)
    section: str | None = None  # "next", "done" or None
    section_level = 0
    in_fence = False
    for line in body.split("\n"):
        if _FENCE.match(line):
            in_fence = not in_fence
            continue
        if in_fence:
            continue
        heading = _heading(line)
        if heading is not None:
            level, title = heading
            if section is None or level <= section_level or level == 7:
                kind = _section_kind(title)
                section, section_level = kind, (level if kind else 0)
            continue
        if _RULE.match(line):
            section = None
            continue
        task = _TASK.match(line)
        if task:
            item = task.group("text")
            if task.group("mark") == " " and not _is_done(item):
                add_open(item)
            else:
                closed.add(step_key(item))
            continue
        listed = _ITEM.match(line)
        if not listed:
            continue
        item = listed.group("text")
        if _is_done(item) or section == "done":
            closed.add(step_key(item))
        elif section == "next":
            add_open(item)
    closed.discard("")
    return StepMentions(open=tuple(v for k, v in opened.items() if k not in closed), closed=frozenset(closed))


def open_steps(mentions: Iterable[tuple[T, StepMentions]]) -> list[tuple[str, T]]:
    """The steps still open across sessions given newest first, each once, with its session.

    A step is open when some session lists it open and no newer session closes it; it
    is linked to the newest session that lists it open.
    """
    closed_later: set[str] = set()
    seen: set[str] = set()
    result: list[tuple[str, T]] = []
    for session, found in mentions:
        for text in found.open:
            key = step_key(text)
            if key not in closed_later and key not in seen:
                seen.add(key)
                result.append((text, session))
        closed_later |= found.closed
    return result


def front_matter_or_text(text: str) -> tuple[dict, str]:
    """Front matter and body, or no front matter when it is not valid YAML (no error here)."""
    try:
        return front_matter(text)
    except Exception:  # a malformed block was already reported by the parser at sync time
        return {}, text


def _heading(line: str) -> tuple[int, str] | None:
    match = _HEADING.match(line)
    if match:
        return len(match.group("hashes")), match.group("text")
    bold = _BOLD_HEADING.match(line)
    if bold:
        return 7, bold.group("text")  # below every markdown heading level
    return None


def _section_kind(title: str) -> str | None:
    name = " ".join(words(title))
    if name in _NEXT_HEADINGS:
        return "next"
    if name in _DONE_HEADINGS:
        return "done"
    return None


def _is_done(item: str) -> bool:
    stripped = item.strip()
    if any(mark in stripped for mark in _DONE_MARKS):
        return True
    return bool(_STRUCK.match(stripped) or _DONE_SUFFIX.search(stripped))


def _strip_markup(text: str) -> str:
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", text)  # links keep their words
    text = _DONE_SUFFIX.sub("", text.strip())
    return fold(text)


def _clean(item: str) -> str:
    return " ".join(item.split())[:MAX_ITEM_CHARS]
