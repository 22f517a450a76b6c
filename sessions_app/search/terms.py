"""Terms of the blind index: folded words (and optional prefixes) under a keyed hash.

Pure Python, no Django. A term is ``HMAC-SHA256(key, kind + word)`` cut to its first 8
bytes and read as a signed 64-bit integer (a BIGINT column): equal words give equal terms,
and without the key a term says nothing of its word. ``kind`` keeps whole words (``w:``)
and prefixes (``p:``) apart.
"""

from __future__ import annotations

import hashlib
import hmac
from collections import Counter
from collections.abc import Iterable
from functools import lru_cache

from sessions_app.documents.folding import words

__all__ = ["MAX_PREFIX_CHARS", "MAX_QUERY_TERMS", "QueryTerm", "document_terms", "query_terms", "term_hash"]

MAX_QUERY_TERMS = 16
MAX_PREFIX_CHARS = 12  # prefixes longer than this are not indexed


@lru_cache(maxsize=65536)  # a vocabulary repeats across documents: hash each word once
def term_hash(key: bytes, word: str, *, prefix: bool = False) -> int:
    digest = hmac.digest(key, (b"p:" if prefix else b"w:") + word.encode("utf-8"), hashlib.sha256)
    return int.from_bytes(digest[:8], "big", signed=True)


def document_terms(key: bytes, text: str, *, prefix_min: int = 0) -> tuple[Counter[int], int]:
    """(term -> frequency, length in words) of ``text``; prefixes of ``prefix_min``+ chars when > 0."""
    found = words(text)
    counts: Counter[int] = Counter()
    for word, n in Counter(found).items():
        counts[term_hash(key, word)] += n
        if prefix_min > 0:
            for end in range(prefix_min, min(len(word), MAX_PREFIX_CHARS) + 1):
                counts[term_hash(key, word[:end], prefix=True)] += n
    return counts, len(found)


class QueryTerm(tuple):
    """(word, is_prefix): one term of a query."""

    __slots__ = ()

    def __new__(cls, word: str, prefix: bool) -> QueryTerm:
        return super().__new__(cls, (word, prefix))

    @property
    def word(self) -> str:
        return self[0]

    @property
    def prefix(self) -> bool:
        return self[1]


def query_terms(query: str, *, prefix_min: int = 0) -> list[QueryTerm]:
    """The distinct terms of a query, in order. ``word*`` is a prefix term when prefixes are on
    and the word is within the indexed prefix lengths; otherwise it is a whole word.
    """
    terms: list[QueryTerm] = []
    for raw in query.split():
        star = raw.endswith("*")
        for word in words(raw):
            prefix = star and prefix_min > 0 and prefix_min <= len(word) <= MAX_PREFIX_CHARS
            term = QueryTerm(word, prefix)
            if term not in terms:
                terms.append(term)
    return terms[:MAX_QUERY_TERMS]


def matches(text_words: Iterable[str], terms: list[QueryTerm]) -> bool:
    """True when every term is in ``text_words`` (the decrypt-and-scan reference)."""
    present = set(text_words)
    for term in terms:
        if term.prefix:
            if not any(w.startswith(term.word) for w in present):
                return False
        elif term.word not in present:
            return False
    return True
