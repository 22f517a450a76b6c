"""A conservative token count for budgeting text an assistant will load.

Claude's current tokenizer is not published, and ``tiktoken`` downloads its encoding
files at run time (which fails offline), so the context is budgeted with this estimate.
It charges every run of characters of one class (Latin letters, digits, Cyrillic,
spaces, punctuation, other scripts, emoji) a fixed cost plus a cost per character.
Each weight is set so that the estimate is at least the count of a real tokenizer
(Claude's own tokenizer.json, shipped in the ``anthropic`` 0.34.2 wheel) on every shipped
sample, every paragraph of one and the generated benchmark corpora; the tests check it
(``sessions_app/tests/test_context_tokens.py``) and the README gives the worst-case error.

The estimate is subadditive: the estimate of a text is never more than the sum of the
estimates of any pieces it is cut into, so a budget filled piece by piece holds for the
whole. Costs are kept in integer hundredths so the sums are exact.
"""

from __future__ import annotations

import re

__all__ = ["COUNTER_NAME", "count_tokens"]

COUNTER_NAME = "annoris-estimate-v1"

# Cost of a run = FIXED + PER_CHAR * length, in hundredths of a token. The classes do not
# overlap, so counting each class's runs on its own gives the same runs as one pass would.
_CLASSES: tuple[tuple[str, int, int], ...] = (
    (r"[A-Z]+", 60, 45),  # capitals: "BUDGET" splits into more tokens than "budget"
    (r"[a-z]+", 60, 22),
    (r"[0-9]+", 60, 50),
    (r"[\u0400-\u042F]+", 60, 110),  # Cyrillic capitals
    (r"[\u0430-\u04FF]+", 60, 50),
    (r"[ \t]+", 30, 10),
    (r"[\r\n]+", 60, 40),
    (r"[!-/:-@\[-`{-~]+", 50, 55),  # ASCII punctuation
    (r"[\u0080-\u03FF\u0500-\uFFFF]", 150, 0),  # other scripts, symbols, BMP emoji: per character
    (r"[\U00010000-\U0010FFFF]", 220, 0),  # astral emoji
    (r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]", 100, 0),
)
_COMPILED = tuple((re.compile(pattern), fixed, per_char) for pattern, fixed, per_char in _CLASSES)


def count_tokens(text: str) -> int:
    """A count of tokens in ``text`` that is never below a real tokenizer's on our samples."""
    hundredths = 0
    for pattern, fixed, per_char in _COMPILED:
        runs = pattern.findall(text)
        if runs:
            hundredths += fixed * len(runs) + (per_char * sum(map(len, runs)) if per_char else 0)
    return -(-hundredths // 100)
