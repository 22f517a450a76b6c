"""A batch of documents analysed into arrays, in this process or in worker processes.

``analyse(key, texts)`` turns (title, text) pairs into what the writers copy: each document's
length, its posting hashes and weighted frequencies, and its sorted pair and prefix hashes, all
as flat numpy arrays (cheap to send between processes). The same function runs in both places,
so a build gives the same index whether or not it used processes.

``Analysers`` runs it in ``processes`` forked workers for ``reindex_all`` when there are cores
to spare (ANNORIS_INDEX_PROCESSES): analysis is ~1 ms of CPU a session, PostgreSQL's side of
the write ~1.4 ms, so on 2 cores the indexer and its backend already fill both and workers
add nothing (docs/benchmarks.md). Workers get only the index key (never the keyring: the
parent decrypts), die with their parent (PR_SET_PDEATHSIG, so a SIGKILLed indexer leaves no
orphan holding the key), and are shut down when the build ends or fails.
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import signal
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import contextmanager
from itertools import chain
from typing import NamedTuple

import numpy as np

from .terms import TermHashes, document_hashes

__all__ = ["Analysed", "Analysers", "analyse", "analysers", "bounded", "can_fork"]

# A process keeps its memo of token and pair hashes across batches (a vocabulary repeats):
# rebuilding it for every batch of 200 cost ~30% of the analysis. Bounded: past these sizes
# it starts afresh (~100 bytes an entry).
TOKEN_LIMIT = 200_000
PAIR_LIMIT = 400_000
_memo: dict[bytes, TermHashes] = {}  # in a worker process: its memo, under the key it was given


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


def can_fork() -> bool:
    """Worker processes are possible here: Linux's fork, and not inside a daemonic process
    (multiprocessing refuses those children; django-q2's workers are daemonic by default)."""
    return "fork" in multiprocessing.get_all_start_methods() and not multiprocessing.current_process().daemon


def _start(key: bytes, parent: int) -> None:
    """A worker's first act: die with the parent, ignore ^C (the parent handles it), keep the key."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # pragma: no cover - not Linux
        pass
    if os.getppid() != parent:  # the parent died before the line above: no signal will come
        os._exit(1)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _memo[b""] = TermHashes(key)


def _work(texts: list[tuple[str, str]]) -> Analysed:
    """In a worker: analyse with the memo it keeps across batches."""
    hashes = _memo[b""] = bounded(_memo[b""], _memo[b""].key)
    return analyse(texts, hashes)


class Analysers:
    """``processes`` forked workers analysing batches under one index key."""

    def __init__(self, key: bytes, processes: int) -> None:
        self._pool = ProcessPoolExecutor(
            max_workers=processes,
            mp_context=multiprocessing.get_context("fork"),
            initializer=_start,
            initargs=(key, os.getpid()),  # with fork, handed over in memory: never pickled or written
        )

    def submit(self, texts: list[tuple[str, str]]) -> Future[Analysed]:
        return self._pool.submit(_work, texts)

    def close(self) -> None:
        """Cancel what has not started and wait for the workers to exit (at most a batch)."""
        self._pool.shutdown(wait=True, cancel_futures=True)


@contextmanager
def analysers(key: bytes, processes: int) -> Iterator[Analysers]:
    pool = Analysers(key, processes)
    try:
        yield pool
    finally:
        pool.close()
