"""Where a session's fields are written: YAML front matter, bold field lines, the first
``# `` heading and the path. Each function here reads one of these places and knows
nothing of precedence, which ``parser.parse_document`` decides.
"""

from __future__ import annotations

import functools
import re
import time
import unicodedata
from collections.abc import Iterator
from pathlib import PurePosixPath
from typing import Any

import yaml

from annoris.text import NUL, unstorable

from .errors import DocumentError

__all__ = [
    "bold_fields",
    "clean_title",
    "first_heading",
    "title_headings",
    "front_matter",
    "project_from_path",
]

# Bounds on the YAML front matter (see ``_load_yaml``). Real front matter is a few
# lines of scalars; these leave it ample room and keep a hostile block cheap.
MAX_FRONT_MATTER_BYTES = 64 * 1024
MAX_FRONT_MATTER_DEPTH = 20
MAX_FRONT_MATTER_NODES = 5_000
# CPU seconds of the parsing thread, not wall time: on a loaded machine a wall-clock bound
# refused 6,000 values as "took too long" before their count was reached (CI, load 9 on 2 cores).
MAX_FRONT_MATTER_SECONDS = 1.0

# Top-level folders that hold sessions rather than name a project.
GENERIC_FOLDERS = frozenset({"sessions", "session", "notes", "logs", "docs"})

# Patterns applied to whole stretches of text (re.M): "[^\S\n]" is whitespace within a line.
_FENCE = re.compile(r"\n[^\S\n]{0,3}(```|~~~)")  # searched in "\n" + text: a line start
# "**Date:** x", "**Date**: x", "- **Date:** x"; the key is letters and spaces only.
_BOLD_FIELD = re.compile(
    r"^[^\S\n]*(?:[-*+][^\S\n]+)?\*\*(?P<key>[^\W\d_]+(?: [^\W\d_]+)*)[^\S\n]*(?::\*\*|\*\*[^\S\n]*:)"
    r"[^\S\n]*(?P<value>[^\n]*?)[^\S\n]*$",
    re.M,
)
_TITLE = re.compile(
    r"^#[^\S\n]+(?P<atx>[^\n]*?)[^\S\n]*#*[^\S\n]*$"
    r"|^(?=[^\n]*[^\W_])(?P<setext>[^\n]+)\n[^\S\n]{0,3}(?P<under>=+|-{2,}|~{3,}|\^{3,}|\*{3,}|\+{3,}|:{3,}|'{3,}|\"{3,}|`{3,})"
    r"[^\S\n]*$",
    re.M,
)
_NOT_SETEXT = re.compile(r"^\s*(?:[-*+>|]|\d{1,3}[.)]\s|\*\*[^*]+\*\*\s*:|\*\*[^*]+:\*\*)")
# Badges and other images: "[![CI](https://.../badge.svg)](https://...)", "![logo](x.png)",
# reference-style "![x][y]" and HTML <img>; a title keeps none of them.
_IMAGE = re.compile(
    r"\[!\[[^\]]*\]\([^)]*\)\]\([^)]*\)|!\[[^\]]*\](?:\([^)]*\)|\[[^\]]*\])|<img\b[^>]*>", re.I
)
_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_EMPHASIS = re.compile(r"(\*\*|__|\*|`|~~)")
# Categories stripped from the ends of a title: symbols (emoji), marks (variation
# selectors, keycaps), format characters (zero-width joiner) and spaces.
_EDGE_CATEGORIES = frozenset({"So", "Sk", "Mn", "Me", "Cf", "Zs"})


def front_matter(text: str) -> tuple[dict[str, Any], str]:
    """The YAML front matter of ``text`` and the body that follows it.

    Front matter is a first line of exactly ``---`` and a later line of ``---`` or
    ``...``; without the closing line the text has none and the body is the whole text.
    Raises ``DocumentError`` when the block is not valid YAML or not a mapping. Empty
    front matter is ``{}``.
    """
    # A leading BOM is read past here as the parser strips it, so a write cannot hide an
    # ``id:`` change behind one that the next sync would then read (issue #20, finding 8).
    lines = text.removeprefix("\ufeff").split("\n")
    if lines[0].rstrip("\r") != "---":
        return {}, text
    for index, line in enumerate(lines[1:], start=1):
        if line.rstrip("\r") in ("---", "..."):
            return _load_yaml("\n".join(lines[1:index])), "\n".join(lines[index + 1 :])
    return {}, text


def _load_yaml(block: str) -> dict[str, Any]:
    """Parse a front matter block; see ``front_matter`` for the contract.

    Bounded in memory and time whatever the block holds: it is refused when larger than
    MAX_FRONT_MATTER_BYTES, when it uses anchors or aliases (the "billion laughs" bomb
    expands through them), nests deeper than MAX_FRONT_MATTER_DEPTH, holds more than
    MAX_FRONT_MATTER_NODES values or takes longer than MAX_FRONT_MATTER_SECONDS. Strings
    that no database column can store (NUL, lone surrogates, both reachable through
    YAML escapes such as ``"\\0"``) are refused too.
    """
    size = len(block.encode("utf-8", "surrogatepass"))
    if size > MAX_FRONT_MATTER_BYTES:
        raise DocumentError(f"front matter too large ({size} bytes, limit {MAX_FRONT_MATTER_BYTES})")
    loader = _BoundedLoader(block)
    try:
        data = loader.get_single_data()
    except yaml.YAMLError as error:
        raise DocumentError(f"front matter is not valid YAML: {_yaml_reason(error)}") from None
    except DocumentError:
        raise  # a bound was hit
    except (ValueError, OverflowError, TypeError, RecursionError) as error:
        # A scalar PyYAML cannot build, e.g. the timestamp 0000-01-01.
        raise DocumentError(f"front matter has a value that cannot be read: {error}") from None
    finally:
        loader.dispose()
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise DocumentError(f"front matter is not a mapping (got {type(data).__name__})")
    _refuse_unstorable(data)
    return data


class _BoundedLoader(yaml.SafeLoader):
    """PyYAML's safe loader with limits checked as each node is composed (see ``_load_yaml``).

    The pure-Python loader, not libyaml's: its composer is the one place that sees every
    anchor, alias and nesting level, so a bad block is refused before anything is built.
    Front matter is a few lines, so its speed does not matter.
    """

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0
        self._nodes = 0
        self._deadline = time.thread_time() + MAX_FRONT_MATTER_SECONDS

    def compose_node(self, parent: Any, index: Any) -> Any:
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None) is not None:
            raise DocumentError("front matter uses YAML anchors or aliases, which are not accepted")
        self._nodes += 1
        if self._nodes > MAX_FRONT_MATTER_NODES:
            raise DocumentError(f"front matter has too many values (limit {MAX_FRONT_MATTER_NODES})")
        if time.thread_time() > self._deadline:
            raise DocumentError(
                f"front matter took too long to parse (limit {MAX_FRONT_MATTER_SECONDS} s of CPU)"
            )
        self._depth += 1
        try:
            if self._depth > MAX_FRONT_MATTER_DEPTH:
                raise DocumentError(f"front matter nests too deeply (limit {MAX_FRONT_MATTER_DEPTH} levels)")
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


def _refuse_unstorable(value: Any, depth: int = 0) -> None:
    """DocumentError for a NUL or a lone surrogate anywhere in the parsed front matter."""
    if isinstance(value, str):
        why = unstorable(value)
        if why:
            kind = "a NUL character" if why == NUL else "a lone surrogate (not Unicode text)"
            raise DocumentError(f"front matter contains {kind}")
    elif isinstance(value, dict):
        for key, item in value.items():
            _refuse_unstorable(key, depth + 1)
            _refuse_unstorable(item, depth + 1)
    elif isinstance(value, list | tuple | set):
        for item in value:
            _refuse_unstorable(item, depth + 1)


def _yaml_reason(error: yaml.YAMLError) -> str:
    """A one-line reason for a YAML error, with the line number inside the block."""
    problem = getattr(error, "problem", None) or str(error).splitlines()[0]
    mark = getattr(error, "problem_mark", None)
    return f"{problem} (line {mark.line + 2})" if mark is not None else problem


def bold_fields(text: str) -> dict[str, str]:
    """Bold field lines outside code fences, keyed by lower-case name.

    The first non-empty value of each key wins; a later ``**Status:**`` that only heads a
    list (empty value) does not hide or replace an earlier one.
    """
    fields: dict[str, str] = {}
    for segment in _outside_fences(text):
        if "**" not in segment:
            continue
        for match in _BOLD_FIELD.finditer(segment):
            if match.group("value"):
                fields.setdefault(match.group("key").strip().lower(), match.group("value"))
    return fields


def first_heading(text: str) -> str | None:
    """The text of the first title heading outside code fences, or None (see ``title_headings``)."""
    return next(title_headings(text), None)


def title_headings(text: str) -> Iterator[str]:
    """The texts of the title headings outside code fences, in document order.

    A title heading is a ``# `` heading, a setext heading (a line underlined with ``===`` or
    ``---``) or a reST title (a line underlined, and perhaps overlined, with ``~ ^ * + : ' "``
    or a backtick, at least as long as the line). A list item, quote, table row or bold
    field line above a ``---`` is not a heading.
    """
    for segment in _outside_fences(text):
        for match in _TITLE.finditer(segment):
            if match.group("atx") is not None:
                yield match.group("atx")
                continue
            line, under = match.group("setext"), match.group("under")
            if _NOT_SETEXT.match(line) or (under[0] not in "=-" and len(under) < len(line.strip())):
                continue
            yield line.strip()


@functools.lru_cache(maxsize=4)
def _outside_fences(text: str) -> tuple[str, ...]:
    """The stretches of ``text`` (whole lines) that are not inside a fenced code block.

    A fence opens on a line starting (after up to 3 blanks) with three backticks or
    tildes, and closes on the next such line of the same kind; both lines are inside.
    The fence lines are found by one regex over the text (a newline, then the marker: a
    literal first character keeps the scan in C). Cached for the few texts just parsed,
    as the bold fields and the heading both ask.
    """
    if "```" not in text and "~~~" not in text:
        return (text,)
    segments: list[str] = []
    start, fence = 0, None
    for match in _FENCE.finditer("\n" + text):  # a match at p is the line starting at text[p]
        if fence is None:
            segments.append(text[start : match.start()])
            fence = match.group(1)
        elif match.group(1) == fence:
            fence = None
            end = text.find("\n", match.end() - 1)
            start = len(text) if end < 0 else end + 1
    if fence is None:
        segments.append(text[start:])
    return tuple(segments)


def clean_title(text: str) -> str:
    """A heading or title as plain words: markdown removed, emoji trimmed from the ends.

    "# 🚀 **REDIS** strategy ✅" gives "REDIS strategy". Emoji inside the title stay; badge
    images go. If nothing but symbols is left, the original (whitespace-trimmed) text is
    returned; if nothing but images, "".
    """
    without_images = _IMAGE.sub("", text)
    if not without_images.strip():
        return ""
    text = without_images
    plain = _EMPHASIS.sub("", _LINK.sub(r"\1", text))
    plain = " ".join(plain.split())
    start, end = 0, len(plain)
    while start < end and unicodedata.category(plain[start]) in _EDGE_CATEGORIES:
        start += 1
    while end > start and unicodedata.category(plain[end - 1]) in _EDGE_CATEGORIES:
        end -= 1
    return plain[start:end].strip() or text.strip()


def project_from_path(path: str) -> str | None:
    """The project named by the folder of ``path``, or None.

    The first directory names the project, unless it is a generic container such as
    ``sessions``, in which case the next directory does (if there is one). A lower-case
    slug folder is shown as a name: ``annoris`` -> "Annoris", ``lingua-drift`` ->
    "Lingua Drift"; any other folder name is kept as written.
    """
    folders = [part for part in PurePosixPath(path.replace("\\", "/")).parts[:-1] if part not in ("/", ".")]
    if folders and folders[0].lower() in GENERIC_FOLDERS:
        folders = folders[1:]
    if not folders:
        return None
    folder = folders[0].strip()
    if re.fullmatch(r"[a-z0-9]+(?:[-_][a-z0-9]+)*", folder):
        return " ".join(word.capitalize() for word in re.split(r"[-_]", folder))
    return folder or None
