"""Terms of the blind index, and the keyed hash that hides them.

Pure Python, no Django. A document's terms are strings with a kind prefix (see ``tokens``):

- ``w:<whole>``  every token whole: ``w:deploy``, ``w:default_auto_field``, ``w:c++``, ``w:v2.3.0``;
- ``s:<stem>``   the Snowball stem of a plain word, when it differs from the word (``s:сервер``
  for ``серверов``; ``сервер`` itself is already ``w:сервер``);
- ``i:<part>``   each part of a compound token (``i:default``, ``i:auto``, ``i:field``);
- ``b:<a> <b>``  each adjacent pair of runs (phrases are matched on these);
- ``p:<prefix>`` the first PREFIX_MIN..PREFIX_MAX characters of every run and part.

A stored term is ``HMAC-SHA256(key, term)`` cut to its first 8 bytes and read as a signed
64-bit integer (a BIGINT column): equal terms give equal hashes, and without the key a hash
says nothing of its term. Title tokens count TITLE_WEIGHT times (BM25 with the title above
the body).

Only ``w:``, ``s:`` and ``i:`` are postings (a row each, ranked by BM25). Pairs and
prefixes (FILTER_KINDS, ~80% of a session's terms) only filter: they are stored as one set
of hashes a session (``SearchDocument.pairs`` and ``.prefixes``), checked on candidates.
"""

from __future__ import annotations

import hashlib
import hmac
from collections import Counter
from functools import lru_cache
from itertools import chain
from operator import itemgetter
from typing import NamedTuple

from .stems import stem
from .tokens import _TOKEN, Token, tokens

__all__ = [
    "FILTER_KINDS",
    "DocumentHashes",
    "PREFIX_MAX",
    "PREFIX_MIN",
    "TITLE_WEIGHT",
    "TermHashes",
    "document_hashes",
    "document_terms",
    "is_filter",
    "term_hash",
    "term_set",
    "token_terms",
]

PREFIX_MIN = 3
PREFIX_MAX = 6  # prefixes are indexed up to this length; a longer prefix* query uses its first 6
TITLE_WEIGHT = 3
FILTER_KINDS = ("b:", "p:")  # stored as per-session sets, not postings


def is_filter(term: str) -> bool:
    return term.startswith(FILTER_KINDS)


@lru_cache(maxsize=262_144)  # a vocabulary repeats across documents: hash each term once
def term_hash(key: bytes, term: str) -> int:
    digest = hmac.digest(key, term.encode("utf-8"), hashlib.sha256)
    return int.from_bytes(digest[:8], "big", signed=True)


@lru_cache(maxsize=131_072)
def token_terms(raw: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(terms of the token ``raw`` apart from pairs, its runs): computed once per spelling."""
    found = next(tokens(raw), None)
    if found is None or found.end - found.start != len(raw):
        return (), ()
    return _terms_of(found), found.runs


def _terms_of(token: Token) -> tuple[str, ...]:
    terms = ["w:" + token.whole]
    if token.simple:
        stemmed = stem(token.whole)
        if stemmed != token.whole:
            terms.append("s:" + stemmed)
    else:
        terms.extend(dict.fromkeys("i:" + part for part in token.parts))
    prefixes = {piece[:n] for piece in {*token.runs, *token.parts} for n in range(PREFIX_MIN, PREFIX_MAX + 1)}
    terms.extend("p:" + prefix for prefix in sorted(prefixes) if len(prefix) >= PREFIX_MIN)
    return tuple(terms)


def document_terms(title: str, text: str) -> tuple[Counter[str], int]:
    """(term -> weighted frequency, length in runs) of a session's title and body."""
    counts: Counter[str] = Counter()
    length = 0
    for source, factor in ((title, TITLE_WEIGHT), (text, 1)):
        raws = _TOKEN.findall(source)
        stream: list[str] = []
        per_token: Counter[tuple[str, ...]] = Counter()
        for raw in raws:
            terms, runs = token_terms(raw)
            per_token[terms] += 1
            stream.extend(runs)
        for terms, n in per_token.items():
            for term in terms:
                counts[term] += n * factor
        for pair, n in Counter(zip(stream, stream[1:], strict=False)).items():
            counts[f"b:{pair[0]} {pair[1]}"] += n * factor
        length += len(stream)
    return counts, length


def term_set(title: str, text: str) -> set[str]:
    """The distinct terms of a session (the decrypt-and-scan reference matches on these)."""
    return set(document_terms(title, text)[0])


_Analysed = tuple[tuple[int, ...], tuple[int, ...], tuple[str, ...]]  # postings, prefixes, runs


class _TokenMemo(dict[str, _Analysed]):
    """raw token -> (hashes of its postings, hashes of its prefixes, its runs), computed on a
    miss: ``memo[raw]`` through ``map`` looks every occurrence up in C."""

    def __init__(self, key: bytes) -> None:
        super().__init__()
        self.key = key

    def __missing__(self, raw: str) -> _Analysed:
        terms, runs = token_terms(raw)
        postings = tuple(term_hash(self.key, term) for term in terms if not term.startswith("p:"))
        prefixes = tuple(term_hash(self.key, term) for term in terms if term.startswith("p:"))
        found = self[raw] = (postings, prefixes, runs)
        return found


class _PairMemo(dict[tuple[str, str], int]):
    """(run, next run) -> hash of the pair, computed on a miss."""

    def __init__(self, key: bytes) -> None:
        super().__init__()
        self.key = key

    def __missing__(self, pair: tuple[str, str]) -> int:
        found = self[pair] = term_hash(self.key, f"b:{pair[0]} {pair[1]}")
        return found


class TermHashes:
    """Hashes under one key, memoised for a batch of documents (or a whole build): a vocabulary
    repeats, so each token spelling and each adjacent pair is analysed and hashed once (the
    string-keyed ``document_terms`` followed by ``term_hash`` per term took ~5 ms a session)."""

    def __init__(self, key: bytes) -> None:
        self.key = key
        self.tokens = _TokenMemo(key)
        self.pairs = _PairMemo(key)


class DocumentHashes(NamedTuple):
    """A session's hashed terms: posting hash -> weighted frequency, the sets of its pair and
    prefix hashes, its length in runs."""

    counts: dict[int, int]
    pairs: set[int]
    prefixes: set[int]
    length: int


def document_hashes(title: str, text: str, hashes: TermHashes) -> DocumentHashes:
    """``document_terms`` as hashes, the postings counted and pairs and prefixes as sets."""
    found = DocumentHashes(Counter(), set(), set(), 0)
    body_length = _source_hashes(text, hashes, found, 1)
    title_length = _source_hashes(title, hashes, found, TITLE_WEIGHT)
    return found._replace(length=body_length + title_length)


def _source_hashes(source: str, hashes: TermHashes, into: DocumentHashes, factor: int) -> int:
    """Add one text's hashes to ``into``; its length in runs. Every step loops in C (``map``,
    ``chain``, ``Counter``, ``set``): a Python loop per token took ~0.4 ms of a session's ~1."""
    raws = _TOKEN.findall(source)
    found = list(map(hashes.tokens.__getitem__, raws))
    stream = list(chain.from_iterable(map(_RUNS, found)))
    into.prefixes.update(chain.from_iterable(map(_PREFIXES, map(hashes.tokens.__getitem__, set(raws)))))
    into.pairs.update(map(hashes.pairs.__getitem__, set(zip(stream, stream[1:], strict=False))))
    flat = chain.from_iterable(map(_POSTINGS, found))
    if factor == 1:
        into.counts.update(flat)  # type: ignore[attr-defined] - a Counter: counted in C
    else:
        for value, n in Counter(flat).items():
            into.counts[value] = into.counts.get(value, 0) + n * factor
    return len(stream)


_POSTINGS, _PREFIXES, _RUNS = itemgetter(0), itemgetter(1), itemgetter(2)
