"""How deep a JSON text nests, found without recursion, so a parser that recurses per level
(Python's ``json``) is never handed a text that would raise RecursionError (a 500)."""

from __future__ import annotations

import re
from itertools import accumulate

# Deepest nesting a request body may have. Annoris' bodies nest 2 or 3 levels and GitHub's push
# payloads about 5; Python's json recurses per level, and 100,000 levels raised RecursionError.
MAX_JSON_DEPTH = 64
_JSON_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_BRACKETS = str.maketrans({"[": "(", "{": "(", "]": ")", "}": ")"})
_STEP = {"(": 1, ")": -1}


def json_depth(text: str) -> int:
    """The deepest bracket nesting of a JSON text, found without recursion (strings skipped).

    Linear and in C for the heavy parts: strings are cut out with one regex, the rest is
    reduced to its brackets, and the running depth is a prefix sum. Malformed text may
    count deeper than json would parse; it fails either way.
    """
    brackets = re.sub(r"[^()]", "", _JSON_STRING.sub("", text).translate(_BRACKETS))
    return max(accumulate(map(_STEP.__getitem__, brackets)), default=0)
