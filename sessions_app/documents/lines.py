"""A session document as lines, for the edits: its front matter block apart, its headings and
sections found outside code fences, and text turned back into lines with the document's own
line ending."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from .errors import DocumentError
from .folding import words

HEADING = re.compile(r"^ {0,3}(#{1,6})[ \t]+(.*?)[ \t]*#*[ \t]*$")
FENCE = re.compile(r"^ {0,3}(```|~~~)")


@dataclass(frozen=True)
class Line:
    """One line of the body outside code fences: its index among the body lines, its text."""

    index: int
    text: str  # without its line ending


def split_front_matter(text: str) -> tuple[str, list[str], str]:
    """(front matter block as written, body lines with their endings, the newline to use)."""
    newline = "\r\n" if "\r\n" in text else "\n"
    lines = text.splitlines(keepends=True)
    if lines and lines[0].rstrip("\r\n") == "---":
        for index in range(1, len(lines)):
            if lines[index].rstrip("\r\n") in ("---", "..."):
                return "".join(lines[: index + 1]), lines[index + 1 :], newline
    return "", lines, newline


def outside_fences(lines: list[str]) -> Iterator[Line]:
    """The lines that are not inside a ``` or ~~~ fence, nor a fence line themselves."""
    fence: str | None = None
    for index, raw in enumerate(lines):
        line = raw.rstrip("\r\n")
        match = FENCE.match(line)
        if match:
            fence = match.group(1) if fence is None else (None if match.group(1) == fence else fence)
            continue
        if fence is None:
            yield Line(index, line)


def heading_lines(lines: list[str]) -> list[tuple[int, int, str]]:
    """(line index, level, text) of each ``#`` heading outside code fences."""
    found = []
    for line in outside_fences(lines):
        match = HEADING.match(line.text)
        if match:
            found.append((line.index, len(match.group(1)), match.group(2)))
    return found


def heading_name(text: str) -> str:
    return " ".join(words(text))


def find_section(lines: list[str], heading: str) -> tuple[int, int]:
    """(heading line, end line exclusive) of the first section whose heading reads ``heading``."""
    wanted = heading_name(heading.lstrip("#"))
    headings = heading_lines(lines)
    for position, (index, level, text) in enumerate(headings):
        if heading_name(text) == wanted and wanted:
            end = next((i for i, lvl, _ in headings[position + 1 :] if lvl <= level), len(lines))
            return index, end
    names = ", ".join(repr(text.strip()) for _, _, text in headings[:12]) or "none"
    raise DocumentError(f"No section is headed {heading.strip()[:80]!r}; the headings are: {names}.")


def as_lines(text: str, newline: str) -> list[str]:
    return [line + newline for line in text.strip("\r\n").replace("\r\n", "\n").split("\n")]


def ensure_ending(lines: list[str], newline: str) -> None:
    if lines and not lines[-1].endswith(("\n", "\r")):
        lines[-1] += newline


def is_blank(line: str) -> bool:
    return not line.strip()
