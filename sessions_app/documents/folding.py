"""Folding text for comparison: case, accents and ``ё``, the same for Latin and Cyrillic.

Search terms and next-step identity both compare folded text, so "Бан", "бан" and "БАН"
are one word, "Café" matches "cafe" and "ёлка" matches "елка". ``й`` keeps its breve:
it is a letter of its own in Russian, not an accented ``и``.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["MAX_WORD_CHARS", "fold", "words"]

# Longer "words" (base64 blobs, hashes) are cut to this many characters when indexed.
MAX_WORD_CHARS = 64
_WORD = re.compile(r"[^\W_]+")
_KEPT = "\uf000"  # "й" and "Й" become this to survive the accent strip, restored below
# Every combining mark of the Basic Multilingual Plane (accents, breves, diaereses...),
# removed in one regex pass after NFKD splits them from their letters.
_COMBINING = re.compile(
    "[" + "".join(re.escape(chr(c)) for c in range(0x300, 0x10000) if unicodedata.combining(chr(c))) + "]"
)


def fold(text: str) -> str:
    """``text`` case-folded, accents removed (``й`` kept) and ``ё`` read as ``е``."""
    if text.isascii():
        return text.lower()  # casefold() of ASCII, without the Unicode tables
    # str.replace, not str.translate: a translate table costs ~0.15 µs per character of non-ASCII
    # text, which made folding most of the time it takes to find a document's next steps.
    kept = text.replace("й", _KEPT).replace("Й", _KEPT).casefold()
    decomposed = unicodedata.normalize("NFKD", kept)
    return unicodedata.normalize("NFC", _COMBINING.sub("", decomposed)).replace(_KEPT, "й")


def words(text: str) -> list[str]:
    """The folded words of ``text`` (runs of letters and digits), each at most MAX_WORD_CHARS."""
    return [word[:MAX_WORD_CHARS] for word in _WORD.findall(fold(text))]
