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

# Cost of a run = FIXED + PER_CHAR * length, in hundredths of a token.
_CLASSES: tuple[tuple[str, str, int, int], ...] = (
    ("latin_upper", r"[A-Z]+", 60, 45),
    ("latin", r"[a-z]+", 60, 22),
    ("digit", r"[0-9]+", 60, 50),
    ("cyrillic_upper", r"[\u0400-\u042F]+", 60, 110),
    ("cyrillic", r"[\u0430-\u04FF]+", 60, 50),
    ("space", r"[ \t]+", 30, 10),
    ("newline", r"[\r\n]+", 60, 40),
    ("punct", r"[!-/:-@\[-`{-~]+", 50, 55),
    ("other", r"[\u0080-\uFFFF]", 150, 0),
    ("astral", r"[\U00010000-\U0010FFFF]", 220, 0),
    ("control", r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]", 100, 0),
)
_RUN = re.compile("|".join(f"(?P<{name}>{pattern})" for name, pattern, _, _ in _CLASSES))
_COST = {name: (fixed, per_char) for name, _, fixed, per_char in _CLASSES}


def count_tokens(text: str) -> int:
    """A count of tokens in ``text`` that is never below a real tokenizer's on our samples."""
    hundredths = 0
    for match in _RUN.finditer(text):
        fixed, per_char = _COST[match.lastgroup or "other"]
        hundredths += fixed + per_char * (match.end() - match.start())
    return -(-hundredths // 100)
