"""Snowball stems, English and Russian (PyStemmer, the C build of the Snowball algorithms).

A word with a Cyrillic letter is stemmed as Russian, any other as English; words shorter
than three characters, and words with a digit, are their own stem.
"""

from __future__ import annotations

import re
from functools import lru_cache

import Stemmer

__all__ = ["stem"]

_ENGLISH = Stemmer.Stemmer("english")
_RUSSIAN = Stemmer.Stemmer("russian")
_CYRILLIC = re.compile(r"[\u0400-\u04ff]")


@lru_cache(maxsize=200_000)  # a vocabulary repeats: stem each word once per process
def stem(word: str) -> str:
    """The Snowball stem of a folded word (``серверов`` -> ``сервер``, ``retrying`` -> ``retri``)."""
    if len(word) < 3 or any(ch.isdigit() for ch in word):
        return word
    return (_RUSSIAN if _CYRILLIC.search(word) else _ENGLISH).stemWord(word)
