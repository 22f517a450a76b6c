"""Next steps written in a session document, and the ones it closes.

A session names its next steps in three ways: the ``Next`` field, the items of a section
headed "Next", "Next steps", "TODO", "План", "Следующие шаги", "Дальнейшие шаги" and the
like, and unchecked task items (``- [ ] ...``) anywhere. It closes a step by checking it
(``- [x] ...``), marking it ✅ (or ✔️ ☑️), striking it through, saying "done" / "готово" /
"сделано" in it, or listing it under a "Done" / "Сделано" heading.

Items are compared by ``key``: folded words without markdown or emoji, so "**Deploy** the
worker ✅" closes "- [ ] deploy the worker". A later session also closes a step in other
words: a done item, a heading marked done ("Staging deploy — DONE ✅") or the title of a
session whose status is done, when it names the same work (``stems.names_same_work``:
"Staging deploy" closes "Deploy the new build to staging"). A mention without "done"
("the staging deploy still fails") closes nothing, nor does a denied one ("not done").
Pure Python, no Django.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import TypeVar

from .fields import clean_title, front_matter
from .folding import fold, words
from .stems import content_stems, names_same_work, negated

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
# The first non-space character of every line the patterns above (and _ITEM, _TASK, _HEADING,
# _BOLD_HEADING) can match: "" is a blank line, which none does.
_MARKUP_STARTS = frozenset("#*-+_`~0123456789")
_DONE_MARKS = ("✅", "✔", "☑")
_STRUCK = re.compile(r"^~~.+~~$")
_DONE_SUFFIX = re.compile(r"[\s(—–:-]+(done|сделано|готово|выполнено)[\s).!]*$", re.IGNORECASE)
_DONE_WORDS = "done completed complete finished shipped готово сделано выполнено завершено закрыто"
_DONE_WORD = re.compile(r"(?<!\w)(" + "|".join(_DONE_WORDS.split()) + r")(?!\w)", re.IGNORECASE)
_DONE_STEMS = content_stems(_DONE_WORDS)
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
        "дальнейшие шаги",
        "дальнейшие действия",
        "следующие задачи",
        "план работ",
        "план действий",
        "план на завтра",
        "осталось",
        "remaining",
        "remaining work",
        "what s left",
        "open items",
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
    done: tuple[frozenset[str], ...] = ()  # stems of the work it names as done (items, headings, title)


@lru_cache(maxsize=16384)
def step_key(text: str) -> str:
    """The identity of a step: its folded words joined by spaces ('' when it has none)."""
    return " ".join(words(_strip_markup(text)))


def extract_steps(text: str, *, next_field: str = "", title: str = "", done: bool = False) -> StepMentions:
    """The open and closed steps of one document.

    ``next_field`` is its parsed ``Next`` value, ``title`` its title and ``done`` whether its
    status says done (then the title names work done; a title saying "DONE" does anyway).
    """
    meta, body = front_matter_or_text(text)
    opened: dict[str, str] = {}
    closed: set[str] = set()
    phrases: list[frozenset[str]] = []

    def add_done(item: str) -> None:
        closed.add(step_key(item))
        if not negated(item):
            stems = content_stems(_strip_markup(item)) - _DONE_STEMS
            if stems and stems not in phrases:
                phrases.append(stems)

    title = title or str(meta.get("title") or "")
    if title and (done or _is_done(title)):
        add_done(clean_title(title))

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
        if line.lstrip()[:1] not in _MARKUP_STARTS:
            continue  # prose, a table row: no fence, heading, rule or item (most lines; saves 6 regexes)
        if _FENCE.match(line):
            in_fence = not in_fence
            continue
        if in_fence:
            continue
        heading = _heading(line)
        if heading is not None:
            level, heading_text = heading
            kind = _section_kind(heading_text)
            if not kind and _is_done(heading_text):
                add_done(heading_text)  # "Staging deploy — DONE ✅"
            if section is None or level <= section_level or level == 7:
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
                add_done(item)
            continue
        listed = _ITEM.match(line)
        if not listed:
            continue
        item = listed.group("text")
        if _is_done(item) or section == "done":
            add_done(item)
        elif section == "next":
            add_open(item)
    closed.discard("")
    return StepMentions(
        open=tuple(v for k, v in opened.items() if k not in closed),
        closed=frozenset(closed),
        done=tuple(phrases),
    )


def open_steps(mentions: Iterable[tuple[T, StepMentions]]) -> list[tuple[str, T]]:
    """The steps still open across sessions given newest first, each once, with its session.

    A step is open when some session lists it open and no newer session closes it, by its
    words or in other words; it is linked to the newest session that lists it open.
    """
    closed_later: set[str] = set()
    # Done phrases of newer sessions by stem: a phrase names a step's work only if they share a
    # word, so only those are compared (comparing every pair took most of a context's time).
    done_later: dict[str, set[frozenset[str]]] = {}
    seen: set[str] = set()
    result: list[tuple[str, T]] = []
    for session, found in mentions:
        for text in found.open:
            key = step_key(text)
            if key in closed_later or key in seen:
                continue
            seen.add(key)
            stems = content_stems(_strip_markup(text))
            candidates = set().union(*(done_later.get(stem, ()) for stem in stems))
            if not any(names_same_work(done, stems) for done in candidates):
                result.append((text, session))
        closed_later |= found.closed
        for done in found.done:
            for stem in done:
                done_later.setdefault(stem, set()).add(done)
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
    """Marked done: ✅ (✔ ☑), struck through, or "done" / "готово" / "сделано" in it, not denied."""
    stripped = item.strip()
    if _STRUCK.match(stripped) or _DONE_SUFFIX.search(stripped):
        return True
    marked = any(mark in stripped for mark in _DONE_MARKS) or _DONE_WORD.search(stripped)
    return bool(marked) and not negated(stripped)


def _strip_markup(text: str) -> str:
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", text)  # links keep their words
    text = _DONE_SUFFIX.sub("", text.strip())
    return fold(text)


def _clean(item: str) -> str:
    return " ".join(item.split())[:MAX_ITEM_CHARS]
