"""Close a next step in a session document explicitly (what ``edit_session`` calls).

Only the line that closes the step changes; everything else, front matter included, stays
byte for byte. Pure Python, no Django.
"""

from __future__ import annotations

import re

from .nextsteps import extract_steps, step_key

__all__ = ["close_step"]

_TASK = re.compile(r"^(?P<lead>\s*(?:[-*+]|\d{1,3}[.)])\s+)\[ \](?P<rest>\s+(?P<text>.+?))\s*$")
_ITEM = re.compile(r"^\s*(?:[-*+]|\d{1,3}[.)])\s+(?P<text>.+?)\s*$")
_FENCE = re.compile(r"^\s{0,3}(```|~~~)")
_DONE_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+(done|completed|сделано|что сделано|готово)\s*:?\s*$", re.I)


def close_step(text: str, step: str) -> str:
    """``text`` with ``step`` closed; compared by its words (``step_key``), any case and markup.

    - an unchecked task item of the step, ``- [ ] step``, is checked: ``- [x] step``;
    - else a plain list item of the step gets `` ✅`` at its end;
    - else (the step is the ``Next`` field, or an older session's) ``- [x] step`` is added
      at the end, under a ``## Done`` heading unless the document ends with one.

    Afterwards ``extract_steps`` no longer lists the step open. A step with no words
    (``step_key`` empty) raises ValueError.
    """
    key = step_key(step)
    if not key:
        raise ValueError("the step has no words to find it by")
    newline = "\r\n" if "\r\n" in text else "\n"
    lines = text.split(newline)
    found = _find(lines, key)
    if found is not None:
        index, task = found
        line = lines[index]
        if task:
            match = _TASK.match(line)
            assert match is not None
            lines[index] = f"{match.group('lead')}[x]{line[match.end('lead') + 3 :]}"
        else:
            stripped = line.rstrip()
            lines[index] = stripped + " ✅" + line[len(stripped) :]
        return newline.join(lines)
    return _appended(text, " ".join(step.split()), newline)


def _find(lines: list[str], key: str) -> tuple[int, bool] | None:
    """The line of the step as an unchecked task (True) or a plain item (False), outside fences."""
    in_fence = False
    plain: int | None = None
    for index, line in enumerate(lines):
        if _FENCE.match(line):
            in_fence = not in_fence
            continue
        if in_fence:
            continue
        task = _TASK.match(line)
        if task and step_key(task.group("text")) == key:
            return index, True
        item = _ITEM.match(line)
        if plain is None and item and not task and step_key(item.group("text")) == key:
            plain = index
    return (plain, False) if plain is not None else None


def _appended(text: str, step: str, newline: str) -> str:
    body = text.rstrip("\r\n")
    last_heading = next((line for line in reversed(body.split(newline)) if line.lstrip().startswith("#")), "")
    under_done = bool(_DONE_HEADING.match(last_heading))
    block = f"- [x] {step}" if under_done else f"## Done{newline}{newline}- [x] {step}"
    closed = f"{body}{newline}{newline if not under_done else ''}{block}{newline}"
    if step_key(step) in extract_steps(closed).closed:
        return closed
    raise ValueError("the step could not be written as a closed item")  # cannot happen
