"""Tokens a programmer expects: identifiers whole and in parts, hyphenated words, versions, C++.

Pure Python, no Django. A *token* is a run of word characters joined by ``_``, ``-`` or ``.``
(``DEFAULT_AUTO_FIELD``, ``read-only``, ``v2.3.0``, ``os.path``), optionally ending in ``++``
or ``#`` (``C++``, ``C#``). Each token has:

- ``whole``: the token folded (case, accents, ``ё``) — ``default_auto_field``, ``c++``;
- ``runs``: its runs of letters and digits — ``default``, ``auto``, ``field`` (what
  ``documents.folding.words`` gives, and the stream phrases are matched on);
- ``parts``: the runs, with camelCase split too — ``getContents`` gives ``get``, ``contents``.

A token is *simple* when it is one run and no camelCase split (``deploy``, ``серверов``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from sessions_app.documents.folding import MAX_WORD_CHARS, fold

__all__ = ["Token", "runs_of", "tokens"]

_TOKEN = re.compile(r"\w+(?:[-.]\w+)*(?:\+\+|#(?!\w))?")
_RUN = re.compile(r"[^\W_]+")
# camelCase humps: "getContents" -> get|Contents, "HTTPServer" -> HTTP|Server, "parseURL" -> parse|URL
_CAMEL_SPLIT = re.compile(r"(?<=[a-zа-яё])(?=[A-ZА-ЯЁ])|(?<=[A-ZА-ЯЁ])(?=[A-ZА-ЯЁ][a-zа-яё])")


@dataclass(frozen=True, slots=True)
class Token:
    """One token of a text: its span in the text, its folded whole, runs and parts."""

    start: int
    end: int
    whole: str
    runs: tuple[str, ...]
    parts: tuple[str, ...]

    @property
    def simple(self) -> bool:
        return len(self.parts) == 1 and self.parts[0] == self.whole


def tokens(text: str) -> Iterator[Token]:
    """The tokens of ``text`` in order (see the module docstring)."""
    for match in _TOKEN.finditer(text):
        raw = match.group()
        runs = tuple(run[:MAX_WORD_CHARS] for run in _RUN.findall(fold(raw)))
        if not runs:
            continue  # "___": no letter or digit
        whole = fold(raw)[:MAX_WORD_CHARS]
        if len(runs) == 1 and whole == runs[0] and raw.islower():
            yield Token(match.start(), match.end(), whole, runs, runs)  # the common case: a plain word
            continue
        parts: list[str] = []
        for raw_run in _RUN.findall(raw):
            pieces = _CAMEL_SPLIT.split(raw_run) if not raw_run.isupper() else [raw_run]
            parts.extend(fold(piece)[:MAX_WORD_CHARS] for piece in pieces if piece)
        yield Token(match.start(), match.end(), whole, runs, tuple(parts))


def runs_of(text: str) -> list[str]:
    """The runs of every token of ``text``, in order: the stream adjacent pairs come from."""
    return [run for token in tokens(text) for run in token.runs]
