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
_KEEP = {"й": "\uf000", "Й": "\uf000"}  # survive the accent strip, restored below
_RESTORE = {"\uf000": "й"}


def fold(text: str) -> str:
    """``text`` case-folded, accents removed (``й`` kept) and ``ё`` read as ``е``."""
    text = text.translate(str.maketrans(_KEEP))
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return unicodedata.normalize("NFC", stripped).translate(str.maketrans(_RESTORE)).replace("ё", "е")


def words(text: str) -> list[str]:
    """The folded words of ``text`` (runs of letters and digits), each at most MAX_WORD_CHARS."""
    return [word[:MAX_WORD_CHARS] for word in _WORD.findall(fold(text))]
