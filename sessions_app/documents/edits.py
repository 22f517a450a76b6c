"""Small edits of a session document, as text in and text out (issue #15; no Django).

An assistant changes a session without resending it: ``append`` adds a paragraph (at the
end, or at the end of a section), ``replace_section`` swaps the text under a heading,
``check_step`` ticks off a next step. Each touches only the lines it names: the front
matter and every other byte stay as they were, line endings included.

``merge_fields`` decides which fields a save writes into the front matter when the body
already says some of them, and ``keep_front_matter`` gives a replacement document the
front matter of the one it replaces when it has none. Every refusal is an ``EditError``
whose message is one sentence saying what to change.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from .closing import close_step
from .dates import parse_human_date
from .errors import DocumentError
from .fields import bold_fields, front_matter
from .folding import words
from .nextsteps import step_key

__all__ = [
    "EditError",
    "append",
    "check_step",
    "keep_front_matter",
    "merge_fields",
    "replace_section",
]

_HEADING = re.compile(r"^ {0,3}(#{1,6})[ \t]+(.*?)[ \t]*#*[ \t]*$")
_FENCE = re.compile(r"^ {0,3}(```|~~~)")
_OPEN_TASK = re.compile(r"^(?P<lead>\s*(?:[-*+]|\d{1,3}[.)])\s+\[) (?P<rest>\]\s+(?P<text>.+?))\s*$")
_DONE_TASK = re.compile(r"^\s*(?:[-*+]|\d{1,3}[.)])\s+\[[xX]\]\s+(?P<text>.+?)\s*$")
_NEXT_FIELD = re.compile(
    r"^\s*(?:[-*+]\s+)?\*\*Next\s*(?::\*\*|\*\*\s*:)\s*(?P<text>\S.*?)\s*$", re.IGNORECASE
)
_ITEM = re.compile(r"^\s*(?:[-*+]|\d{1,3}[.)])\s+(?P<text>.+?)\s*$")
NEXT_HEADING = "Next steps"


class EditError(ValueError):
    """An edit that cannot be made as asked; the message says what to change."""


@dataclass(frozen=True)
class _Line:
    index: int
    text: str  # without its line ending


# -- the document as lines ---------------------------------------------------------------------


def _split(text: str) -> tuple[str, list[str], str]:
    """(front matter block as written, body lines with their endings, the newline to use)."""
    newline = "\r\n" if "\r\n" in text else "\n"
    lines = text.splitlines(keepends=True)
    if lines and lines[0].rstrip("\r\n") == "---":
        for index in range(1, len(lines)):
            if lines[index].rstrip("\r\n") in ("---", "..."):
                return "".join(lines[: index + 1]), lines[index + 1 :], newline
    return "", lines, newline


def _outside_fences(lines: list[str]) -> Iterator[_Line]:
    fence: str | None = None
    for index, raw in enumerate(lines):
        line = raw.rstrip("\r\n")
        match = _FENCE.match(line)
        if match:
            fence = match.group(1) if fence is None else (None if match.group(1) == fence else fence)
            continue
        if fence is None:
            yield _Line(index, line)


def _headings(lines: list[str]) -> list[tuple[int, int, str]]:
    """(line index, level, text) of each ``#`` heading outside code fences."""
    found = []
    for line in _outside_fences(lines):
        match = _HEADING.match(line.text)
        if match:
            found.append((line.index, len(match.group(1)), match.group(2)))
    return found


def _name(text: str) -> str:
    return " ".join(words(text))


def _section(lines: list[str], heading: str) -> tuple[int, int]:
    """(heading line, end line exclusive) of the first section whose heading reads ``heading``."""
    wanted = _name(heading.lstrip("#"))
    headings = _headings(lines)
    for position, (index, level, text) in enumerate(headings):
        if _name(text) == wanted and wanted:
            end = next((i for i, lvl, _ in headings[position + 1 :] if lvl <= level), len(lines))
            return index, end
    names = ", ".join(repr(text.strip()) for _, _, text in headings[:12]) or "none"
    raise EditError(f"No section is headed {heading.strip()[:80]!r}; the headings are: {names}.")


def _as_lines(text: str, newline: str) -> list[str]:
    return [line + newline for line in text.strip("\r\n").replace("\r\n", "\n").split("\n")]


def _ensure_ending(lines: list[str], newline: str) -> None:
    if lines and not lines[-1].endswith(("\n", "\r")):
        lines[-1] += newline


def _blank(line: str) -> bool:
    return not line.strip()


# -- edits -------------------------------------------------------------------------------------


def append(text: str, paragraph: str, *, section: str | None = None) -> str:
    """``text`` with ``paragraph`` added after a blank line: at the end of the document, or at
    the end of the section headed ``section``. List items added after a list item continue
    that list (no blank line between)."""
    if not paragraph.strip():
        raise EditError("The paragraph to append is empty; send some text.")
    head, lines, newline = _split(text)
    end = len(lines) if section is None else _section(lines, section)[1]
    before, after = lines[:end], lines[end:]
    while section is not None and before and _blank(before[-1]) and len(before) > 1:
        after.insert(0, before.pop())  # the blank lines that close the section stay after it
    _ensure_ending(before, newline)
    added = _as_lines(paragraph, newline)
    continues_list = bool(before) and all(_ITEM.match(line) for line in (before[-1], added[0]))
    gap = [newline] if before and not _blank(before[-1]) and not continues_list else []
    if after and not _blank(after[0]):
        added.append(newline)
    return head + "".join(before + gap + added + after)


def replace_section(text: str, heading: str, content: str) -> str:
    """``text`` with the lines under ``heading`` (up to the next heading of the same or a higher
    level) replaced by ``content``; the heading line itself stays."""
    head, lines, newline = _split(text)
    start, end = _section(lines, heading)
    _ensure_ending(lines, newline)
    tail = lines[end:]
    body = [newline, *_as_lines(content, newline)] if content.strip() else []
    if tail:
        body.append(newline)
    return head + "".join(lines[: start + 1] + body + tail)


def check_step(text: str, step: str) -> str:
    """``text`` with the open next step ``step`` checked off by ``closing.close_step``: ``- [ ]``
    becomes ``- [x]``, a plain item gets `` ✅``, and the step of a ``**Next:**`` line or of the
    front matter is closed by a ``- [x]`` item added under ``## Done`` (the line stays as written).

    ``step`` is matched by its words (case, markup and emoji aside): the step whose words are
    the same, else the one step whose words contain them.
    """
    wanted = step_key(step)
    if not wanted:
        raise EditError("The step to check off is empty; send its text.")
    _, lines, _ = _split(text)
    candidates = [*_front_matter_next(text, lines), *_open_items(lines)]
    exact = [c for c in candidates if step_key(c[1]) == wanted]
    partial = [c for c in candidates if f" {wanted} " in f" {step_key(c[1])} "]
    chosen = exact or partial
    if not chosen:
        listed = "; ".join(repr(item[:80]) for _, item, _ in candidates[:10]) or "none"
        raise EditError(f"No open step matches {step.strip()[:80]!r}; the open steps are: {listed}.")
    if len(chosen) > 1 and not exact:
        listed = "; ".join(repr(item[:80]) for _, item, _ in chosen[:5])
        raise EditError(
            f"{step.strip()[:80]!r} matches {len(chosen)} steps ({listed}); send more of its words."
        )
    return close_step(text, chosen[0][1])  # one closing rule for the app: closing.close_step


def _open_items(lines: list[str]) -> Iterator[tuple[int, str, bool | None]]:
    """(line index, item text, is a ``[ ]`` task) of every open step: unchecked tasks anywhere,
    plain items of a "Next steps"-like section, and (None) the value of a ``**Next:**`` line."""
    in_next = False
    level = 0
    closed = {step_key(m.group("text")) for m in map(_DONE_TASK.match, lines) if m}
    for line in _outside_fences(lines):
        field = _NEXT_FIELD.match(line.text)
        if field and step_key(field.group("text")) not in closed:
            yield line.index, field.group("text"), None
            continue
        heading = _HEADING.match(line.text)
        if heading:
            depth = len(heading.group(1))
            if not in_next or depth <= level:
                in_next, level = _is_next_heading(heading.group(2)), depth
            continue
        task = _OPEN_TASK.match(line.text)
        if task:
            yield line.index, task.group("text"), True
            continue
        item = _ITEM.match(line.text)
        if in_next and item and not item.group("text").startswith("[") and "✅" not in item.group("text"):
            yield line.index, item.group("text"), False


def _front_matter_next(text: str, lines: list[str]) -> list[tuple[int, str, bool | None]]:
    """The front matter's ``next`` as an open step (None: closed by an added item), unless closed."""
    try:
        meta, _ = front_matter(text)
    except DocumentError:
        return []
    value = next((v for k, v in meta.items() if str(k).strip().lower() == "next"), None)
    if not isinstance(value, str) or not step_key(value):
        return []
    closed = {step_key(m.group("text")) for m in map(_DONE_TASK.match, lines) if m}
    return [] if step_key(value) in closed else [(-1, " ".join(value.split()), None)]


_NEXT_NAMES = frozenset(
    {"next", "next steps", "next step", "next actions", "todo", "to do", "следующие шаги",
     "дальнейшие шаги", "дальше", "что дальше", "план", "далее"}
)  # fmt: skip


def _is_next_heading(text: str) -> bool:
    return _name(text) in _NEXT_NAMES


# -- saving with fields --------------------------------------------------------------------------


def keep_front_matter(current: str, replacement: str) -> str:
    """``replacement`` as sent, or, when it has no front matter, with ``current``'s block
    (byte for byte) in front of it: a model that resends the body keeps the fields."""
    block, _, _ = _split(replacement)
    if block:
        return replacement
    current_block, _, _ = _split(current)
    return current_block + replacement if current_block else replacement


def merge_fields(markdown: str, fields: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """(markdown, the fields to write into its front matter) for a save with ``fields``.

    A field the document already states (front matter or a bold ``**Status:**`` line) is not
    written again when it says the same, and refused when it says something else: nothing
    silently overrides the body. ``next`` (a list of steps) is added as ``- [ ]`` items at the
    end of the document's "Next steps" section, or as a new section at its end.
    """
    try:
        meta, body = front_matter(markdown)
    except DocumentError as exc:
        raise EditError(f"The front matter cannot be read ({exc}); fix its YAML.") from None
    stated = {**bold_fields(body), **{str(k).strip().lower(): v for k, v in meta.items() if v is not None}}
    to_write: dict[str, Any] = {}
    for name, value in fields.items():
        if value is None or name == "next":
            continue
        written = stated.get(name)
        if written is None or not str(written).strip():
            to_write[name] = value
        elif not _same(name, written, value):
            raise EditError(
                f"{name} is {_shown(value)!r} but the document says {str(written).strip()[:80]!r}; "
                f"send one of them, or make them agree."
            )
    steps = [s for s in _steps(fields.get("next")) if step_key(s)]
    return (_add_steps(markdown, steps) if steps else markdown), to_write


def _same(name: str, written: Any, given: Any) -> bool:
    if name == "date":
        return _day(written) == _day(given) and _day(given) is not None
    return " ".join(str(written).split()).casefold() == " ".join(str(given).split()).casefold()


def _day(value: Any) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        parsed = parse_human_date(str(value))
    except ValueError:
        return None
    return parsed.date() if parsed else None


def _shown(value: Any) -> str:
    return value.isoformat() if isinstance(value, date) else str(value)[:80]


def _steps(value: Any) -> Iterable[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else [str(v) for v in value]


def _add_steps(markdown: str, steps: list[str]) -> str:
    _, lines, _ = _split(markdown)
    present = {step_key(item) for _, item, _ in _open_items(lines)}
    new = [f"- [ ] {' '.join(s.split())}" for s in steps if step_key(s) not in present]
    if not new:
        return markdown
    heading = next((text for _, _, text in _headings(lines) if _is_next_heading(text)), None)
    if heading is not None:
        return append(markdown, "\n".join(new), section=heading)
    return append(markdown, f"## {NEXT_HEADING}\n\n" + "\n".join(new))
