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


def write_postings(documents: list[tuple[uuid.UUID, dict[int, int], float]], *, batch_size: int) -> None:
    """Insert the postings of (session id, {term hash: tf}, norm) documents.

    On PostgreSQL the rows are packed with numpy into one binary COPY, each session's terms in
    ascending order. Measured on 1,000 sessions of ~5 KB (990,981 postings, 2 busy cores):
    ``copy.write_row`` per row 9.5 s, this 5.8 s (0.6 s of it packing); the rest is PostgreSQL
    maintaining the two indexes (the same COPY into the bare table takes 0.6 s) and checking
    the foreign key (dropped since: docs/benchmarks.md, "Keyword index build speed").
    """
    if connection.vendor != "postgresql":
        rows = (
            SearchPosting(session_id=sid, term=term, tf=n, weight=n * (K1 + 1) / (n + doc_norm))
            for sid, counts, doc_norm in documents
            for term, n in counts.items()
        )
        SearchPosting.objects.bulk_create(rows, batch_size=batch_size)
        return
    sizes = np.array([len(counts) for _, counts, _ in documents], dtype=np.int64)
    rows = np.empty(int(sizes.sum()), dtype=_ROW)
    if not len(rows):
        return
    owner = np.repeat(np.arange(len(documents)), sizes)
    terms = np.fromiter((term for _, counts, _ in documents for term in counts), np.int64, len(rows))
    tf = np.fromiter((n for _, counts, _ in documents for n in counts.values()), np.int64, len(rows))
    order = np.lexsort((terms, owner))  # by session, then term: neighbouring rows share index pages
    sessions = np.frombuffer(b"".join(sid.bytes for sid, _, _ in documents), dtype="S16")
    norms = np.array([doc_norm for _, _, doc_norm in documents], dtype=np.float64)
    rows["fields"] = 4
    rows["session_len"], rows["term_len"], rows["tf_len"], rows["weight_len"] = 16, 8, 4, 8
    rows["session"] = sessions[owner[order]]
    rows["term"] = terms[order]
    rows["tf"] = tf[order]
    rows["weight"] = tf[order] * (K1 + 1) / (tf[order] + norms[owner[order]])  # the same float ops as above
    table = connection.ops.quote_name(SearchPosting._meta.db_table)
    sql = f"COPY {table} (session_id, term, tf, weight) FROM STDIN (FORMAT BINARY)"
    with connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
        copy.write(_HEADER)
        copy.write(memoryview(rows).cast("B"))
        copy.write(_TRAILER)


_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)  # PostgreSQL's binary timestamps count from here
_ELEMENT = np.dtype([("len", ">i4"), ("value", ">i8")])  # one int8 of a binary array


def _bigint_array(values: list[int]) -> bytes:
    """A binary COPY field (length, then the value) holding ``values`` as ``bigint[]``."""
    if not values:
        return struct.pack(">iiiI", 12, 0, 0, 20)  # no dimensions, no nulls, int8's oid
    elements = np.empty(len(values), dtype=_ELEMENT)
    elements["len"] = 8
    elements["value"] = values
    body = elements.tobytes()
    return struct.pack(">iiiIii", 20 + len(body), 1, 0, 20, len(values), 1) + body


def write_documents(entries: list[SearchDocument], *, batch_size: int) -> None:
    """Insert the search documents (their pair and prefix sets are ~800 hashes each): one binary
    COPY on PostgreSQL, where ``bulk_create`` spent 1.2 of 2.9 s of a 1,000-session build in
    psycopg rendering the arrays as text."""
    if connection.vendor != "postgresql":
        SearchDocument.objects.bulk_create(entries, batch_size=batch_size)
        return
    now = timezone.now()
    stamp = struct.pack(">iq", 8, (now - _EPOCH) // timedelta(microseconds=1))
    chunks = [_HEADER]
    for entry in entries:
        key_id = entry.key_id.encode()
        chunks += [
            struct.pack(">hi16sii", 6, 16, entry.session_id.bytes, 4, entry.length),
            struct.pack(">i", len(key_id)) + key_id,
            stamp,
            _bigint_array(entry.pairs),
            _bigint_array(entry.prefixes),
        ]
    chunks.append(_TRAILER)
    table = connection.ops.quote_name(SearchDocument._meta.db_table)
    sql = f"COPY {table} (session_id, length, key_id, indexed_at, pairs, prefixes) FROM STDIN (FORMAT BINARY)"
    with connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
        copy.write(b"".join(chunks))
