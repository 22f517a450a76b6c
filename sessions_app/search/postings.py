"""Writing a batch's postings and search documents: binary COPYs on PostgreSQL, ``bulk_create`` elsewhere.

A posting is (session, term hash, tf, weight) with BM25's term-frequency factor as the weight:
``tf * (k1 + 1) / (tf + norm)``, ``norm = k1 * (1 - b + b * length / average length)``.
"""

from __future__ import annotations

import struct
import uuid
from datetime import UTC, datetime, timedelta

import numpy as np
from django.db import connection
from django.utils import timezone

from sessions_app.models import SearchDocument, SearchPosting

from .analysis import Analysed

__all__ = ["B", "K1", "norm", "write_documents", "write_postings"]

K1 = 1.2  # BM25's term-frequency saturation
B = 0.75  # BM25's length normalisation

# One row of PostgreSQL's binary COPY format: field count, then each field's length and value,
# big-endian (https://www.postgresql.org/docs/current/sql-copy.html, "Binary Format").
_ROW = np.dtype([
    ("fields", ">i2"),
    ("session_len", ">i4"), ("session", "S16"),
    ("term_len", ">i4"), ("term", ">i8"),
    ("tf_len", ">i4"), ("tf", ">i4"),
    ("weight_len", ">i4"), ("weight", ">f8"),
])  # fmt: skip
_HEADER = b"PGCOPY\n\xff\r\n\x00" + bytes(8)  # signature, flags, header extension length
_TRAILER = b"\xff\xff"


def norm(length: int, average: float) -> float:
    """BM25's length normalisation of a document of ``length`` words."""
    return K1 * (1 - B + B * length / average)


def write_postings(ids: list[uuid.UUID], found: Analysed, norms: list[float], *, batch_size: int) -> None:
    """Insert the postings of the documents ``ids`` (their terms in ``found``, BM25 norms ``norms``).

    On PostgreSQL the rows are packed with numpy into one binary COPY, each session's terms in
    ascending order. Measured on 1,000 sessions of ~5 KB (990,981 postings, 2 busy cores):
    ``copy.write_row`` per row 9.5 s, this 5.8 s (0.6 s of it packing); the rest is PostgreSQL
    maintaining the two indexes (the same COPY into the bare table takes 0.6 s) and checking
    the foreign key (dropped since: docs/benchmarks.md, "Keyword index build speed").
    """
    if connection.vendor != "postgresql":
        owners = np.repeat(np.arange(len(ids)), found.sizes).tolist()
        rows = (
            SearchPosting(session_id=ids[i], term=term, tf=n, weight=n * (K1 + 1) / (n + norms[i]))
            for i, term, n in zip(owners, found.terms.tolist(), found.tf.tolist(), strict=True)
        )
        SearchPosting.objects.bulk_create(rows, batch_size=batch_size)
        return
    rows = np.empty(len(found.terms), dtype=_ROW)
    if not len(rows):
        return
    owner = np.repeat(np.arange(len(ids)), found.sizes)
    terms, tf = found.terms, found.tf
    order = np.lexsort((terms, owner))  # by session, then term: neighbouring rows share index pages
    sessions = np.frombuffer(b"".join(sid.bytes for sid in ids), dtype="S16")
    rows["fields"] = 4
    rows["session_len"], rows["term_len"], rows["tf_len"], rows["weight_len"] = 16, 8, 4, 8
    rows["session"] = sessions[owner[order]]
    rows["term"] = terms[order]
    rows["tf"] = tf[order]
    # the same float operations as the Python expression above
    rows["weight"] = tf[order] * (K1 + 1) / (tf[order] + np.asarray(norms, dtype=np.float64)[owner[order]])
    table = connection.ops.quote_name(SearchPosting._meta.db_table)
    sql = f"COPY {table} (session_id, term, tf, weight) FROM STDIN (FORMAT BINARY)"
    with connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
        copy.write(_HEADER)
        copy.write(memoryview(rows).cast("B"))
        copy.write(_TRAILER)


_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)  # PostgreSQL's binary timestamps count from here
_ELEMENT = np.dtype([("len", ">i4"), ("value", ">i8")])  # one int8 of a binary array


def _bigint_array(values: np.ndarray) -> bytes:
    """A binary COPY field (length, then the value) holding ``values`` as ``bigint[]``."""
    if not len(values):
        return struct.pack(">iiiI", 12, 0, 0, 20)  # no dimensions, no nulls, int8's oid
    elements = np.empty(len(values), dtype=_ELEMENT)
    elements["len"] = 8
    elements["value"] = values
    body = elements.tobytes()
    return struct.pack(">iiiIii", 20 + len(body), 1, 0, 20, len(values), 1) + body


def write_documents(ids: list[uuid.UUID], key_id: str, found: Analysed, *, batch_size: int) -> None:
    """Insert the search documents of ``ids`` (their pair and prefix sets are ~800 hashes each):
    one binary COPY on PostgreSQL, where ``bulk_create`` spent 1.2 of 2.9 s of a 1,000-session
    build in psycopg rendering the arrays as text."""
    pairs = found.split(found.pair_sizes, found.pairs)
    prefixes = found.split(found.prefix_sizes, found.prefixes)
    lengths = found.lengths.tolist()
    if connection.vendor != "postgresql":
        entries = (
            SearchDocument(
                session_id=sid, length=n, key_id=key_id, pairs=tuple(p.tolist()), prefixes=tuple(q.tolist())
            )
            for sid, n, p, q in zip(ids, lengths, pairs, prefixes, strict=True)
        )
        SearchDocument.objects.bulk_create(entries, batch_size=batch_size)
        return
    now = timezone.now()
    stamp = struct.pack(">iq", 8, (now - _EPOCH) // timedelta(microseconds=1))
    key = key_id.encode()
    key_field = struct.pack(">i", len(key)) + key
    chunks = [_HEADER]
    for sid, length, pair_set, prefix_set in zip(ids, lengths, pairs, prefixes, strict=True):
        chunks += [
            struct.pack(">hi16sii", 6, 16, sid.bytes, 4, length),
            key_field,
            stamp,
            _bigint_array(pair_set),
            _bigint_array(prefix_set),
        ]
    chunks.append(_TRAILER)
    table = connection.ops.quote_name(SearchDocument._meta.db_table)
    sql = f"COPY {table} (session_id, length, key_id, indexed_at, pairs, prefixes) FROM STDIN (FORMAT BINARY)"
    with connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
        copy.write(b"".join(chunks))
