"""A batch of documents analysed into arrays, in the indexing process.

``analyse(texts, hashes)`` turns (title, text) pairs into what the writers copy: each
document's length, its posting hashes and weighted frequencies, and its sorted pair and prefix
hashes, all as flat numpy arrays. ``hashes`` is a memo of token and pair hashes that a build
keeps across its batches (``bounded`` starts it afresh past its limits or under another key).
Forked analysis processes were tried and removed: on 2 cores they were slower
(docs/benchmarks.md).
"""

from __future__ import annotations

from itertools import chain
from typing import NamedTuple

import numpy as np

from .terms import TermHashes, document_hashes

__all__ = ["Analysed", "analyse", "bounded"]

# A build keeps its memo of token and pair hashes across batches (a vocabulary repeats):
# rebuilding it for every batch of 200 cost ~30% of the analysis. Bounded: past these sizes
# it starts afresh (~100 bytes an entry).
TOKEN_LIMIT = 200_000
PAIR_LIMIT = 400_000


class Analysed(NamedTuple):
    """A batch's terms as flat arrays; document ``i``'s slice of each is given by its size."""

    lengths: np.ndarray  # words (runs) a document
    sizes: np.ndarray  # postings a document
    terms: np.ndarray  # posting hashes, document after document
    tf: np.ndarray  # their weighted frequencies
    pair_sizes: np.ndarray
    pairs: np.ndarray  # each document's pair hashes, ascending
    prefix_sizes: np.ndarray
    prefixes: np.ndarray  # each document's prefix hashes, ascending

    def split(self, sizes: np.ndarray, values: np.ndarray) -> list[np.ndarray]:
        return np.split(values, np.cumsum(sizes)[:-1]) if len(sizes) else []


def bounded(hashes: TermHashes | None, key: bytes) -> TermHashes:
    """``hashes`` if it is under ``key`` and within the limits, else a fresh memo."""
    if (
        hashes is None
        or hashes.key != key
        or len(hashes.tokens) > TOKEN_LIMIT
        or len(hashes.pairs) > PAIR_LIMIT
    ):
        return TermHashes(key)
    return hashes


def analyse(texts: list[tuple[str, str]], hashes: TermHashes) -> Analysed:
    """Tokenize, stem and hash each (title, text) with the memo ``hashes`` (under its key)."""
    found = [document_hashes(title, text, hashes) for title, text in texts]
    count = len(found)

    def sizes(of: str) -> np.ndarray:
        return np.fromiter((len(getattr(doc, of)) for doc in found), np.int64, count)

    posting_sizes, pair_sizes, prefix_sizes = sizes("counts"), sizes("pairs"), sizes("prefixes")
    total = int(posting_sizes.sum())
    return Analysed(
        lengths=np.fromiter((doc.length for doc in found), np.int64, count),
        sizes=posting_sizes,
        terms=np.fromiter(chain.from_iterable(doc.counts for doc in found), np.int64, total),
        tf=np.fromiter(chain.from_iterable(doc.counts.values() for doc in found), np.int64, total),
        pair_sizes=pair_sizes,
        pairs=_sorted_sets([doc.pairs for doc in found]),
        prefix_sizes=prefix_sizes,
        prefixes=_sorted_sets([doc.prefixes for doc in found]),
    )


def _sorted_sets(sets: list[set[int]]) -> np.ndarray:
    """The sets one after the other, each in ascending order (a sort per set: one lexsort of
    the batch took twice as long)."""
    if not sets:
        return np.empty(0, np.int64)
    return np.concatenate([np.sort(np.fromiter(values, np.int64, len(values))) for values in sets])
