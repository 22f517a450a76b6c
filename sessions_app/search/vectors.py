"""Encrypted sentence vectors: written per session, held decrypted only in a searching process.

At rest a vector is an ``annoris.crypto`` token (AES-256-GCM under the keyring's primary key)
of 512 int8 components: no float array reaches the database, Redis, a log or a file. A web
process decrypts them once, keeps only their sign bits (64 bytes a session: 6.4 MB at 100,000)
and then reads only the rows changed since (``updated_at``), at most every REFRESH_SECONDS.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterable
from functools import lru_cache

import numpy as np
from django.conf import settings
from django.db import transaction

from annoris.crypto import DecryptionError, decrypt, encrypt
from annoris.state import Clock, per_process
from sessions_app.models import SearchVector

from .embedding import DIMENSIONS, SCALE, document_text, embed, quantize
from .freshness import lacking

__all__ = ["VectorIndex", "embed_pending", "nearest", "rotate_vectors", "store_vectors"]

REFRESH_SECONDS = 2.0
# Deleted vectors (a rebuild, deleted sessions) are found by a count, at most this often: the
# count took 12 ms at 100,000 sessions, a 2-second refresh without it ~1 ms. Until then a deleted
# session's sign bits stay, and the re-rank, which reads the rows, leaves it out.
RECOUNT_SECONDS = 60.0
REFRESH_CHUNK = 2000  # vectors decrypted at a time when a process loads them
EMBED_BATCH = 32
RERANK = 200  # sessions whose exact cosine is computed (from their decrypted int8 vectors)


def store_vectors(documents: Iterable[tuple[uuid.UUID, str, str]]) -> int:
    """Embed and store (session id, title, text) documents, encrypted; returns how many."""
    docs = list(documents)
    if not docs:
        return 0
    keyring = settings.ANNORIS_KEYRING
    key_id = keyring.keys[0][0]
    vectors = quantize(embed([document_text(title, text) for _, title, text in docs]))
    rows = [
        SearchVector(session_id=sid, ciphertext=encrypt(vector.tobytes(), keyring), key_id=key_id)
        for (sid, _, _), vector in zip(docs, vectors, strict=True)
    ]
    with transaction.atomic():
        SearchVector.objects.filter(session_id__in=[sid for sid, _, _ in docs]).delete()
        SearchVector.objects.bulk_create(rows)
    _index.expire()  # this process searches with what it just stored, not REFRESH_SECONDS later
    return len(rows)


def embed_pending(*, batch_size: int = EMBED_BATCH) -> int:
    """Embed sessions that have no vector under the current key (after an import); returns how many.

    Sessions that cannot be decrypted are skipped (``reindex_search`` reports them)."""
    key_id = settings.ANNORIS_KEYRING.keys[0][0]
    done, last = 0, None
    while True:
        rows = list(lacking(SearchVector, key_id, last).only("id", "title", "content")[:batch_size])
        if not rows:
            return done
        last = rows[-1].id
        docs = []
        for row in rows:
            try:
                docs.append((row.id, row.title, row.text))
            except DecryptionError:
                continue
        done += store_vectors(docs)


def rotate_vectors(*, batch_size: int = 500) -> int:
    """Re-encrypt every vector not under the primary key (decrypt, encrypt; no re-embedding)."""
    keyring = settings.ANNORIS_KEYRING
    key_id = keyring.keys[0][0]
    done = 0
    while True:
        batch = list(SearchVector.objects.exclude(key_id=key_id)[:batch_size])
        if not batch:
            return done
        with transaction.atomic():
            for row in batch:
                try:
                    row.ciphertext = encrypt(decrypt(bytes(row.ciphertext), keyring), keyring)
                    row.key_id = key_id
                    row.save(update_fields=["ciphertext", "key_id", "updated_at"])
                except DecryptionError:
                    row.delete()  # embed_pending makes it again from the session
        _index.expire()
        done += len(batch)


class VectorIndex:
    """One process's view of the vectors: their sign bits (64 bytes a session) and session ids.

    The nearest sessions are found in two steps: the RERANK sessions whose sign bits differ
    least from the query's (Hamming distance, all in memory), then their int8 vectors, read from
    the database and decrypted, give the exact cosine. Holding int8 vectors instead would cost
    512 bytes a session (51 MB at 100,000, beside ~100 MB of model); sign bits cost 6.4 MB.
    """

    def __init__(self, *, rerank: int = RERANK) -> None:
        self.lock = threading.Lock()
        self.rerank = rerank
        self._clear()

    def _clear(self) -> None:
        self.ids = np.zeros((0, 16), dtype=np.uint8)  # session UUIDs, 16 bytes each
        self.bits = np.zeros((0, DIMENSIONS // 8), dtype=np.uint8)
        self.seen_until = None
        self.checked = 0.0
        self.recount_at = 0.0
        self.key_id = ""

    def reset(self, clock: Clock | None = None) -> None:
        """Forget every vector (``annoris.state.reset``: tests); the next search reloads them."""
        with self.lock:
            self._clear()

    def expire(self) -> None:
        """Make the next search read the changes now (a write in this process calls it)."""
        self.checked = self.recount_at = 0.0

    def refresh(self) -> None:
        now = time.monotonic()
        keyring = settings.ANNORIS_KEYRING
        if now < self.checked and self.key_id == keyring.keys[0][0]:
            return
        with self.lock:
            recount = now >= self.recount_at
            if self.key_id != keyring.keys[0][0] or (
                recount and SearchVector.objects.count() < len(self.ids)
            ):
                self._clear()  # a new key, or vectors deleted (a rebuild, sessions deleted): reload
                self.key_id = keyring.keys[0][0]
            if recount:
                self.recount_at = now + RECOUNT_SECONDS
            query = SearchVector.objects.order_by("updated_at")
            if self.seen_until is not None:
                query = query.filter(updated_at__gte=self.seen_until)
            rows = query.values_list("session_id", "ciphertext", "updated_at").iterator(
                chunk_size=REFRESH_CHUNK
            )
            batch: list[tuple] = []
            for row in rows:
                batch.append(row)
                if len(batch) == REFRESH_CHUNK:
                    self._apply(batch, keyring)
                    batch = []
            self._apply(batch, keyring)
            self.checked = time.monotonic() + REFRESH_SECONDS

    def _apply(self, changed: list[tuple], keyring: object) -> None:
        new_ids, new_bits = [], []
        for session_id, token, updated_at in changed:
            try:
                vector = np.frombuffer(decrypt(bytes(token), keyring), dtype=np.int8)
            except DecryptionError:
                continue
            self.seen_until = updated_at
            key = np.frombuffer(_uuid(session_id).bytes, dtype=np.uint8)
            signs = np.packbits(vector > 0)
            known = np.flatnonzero((self.ids == key).all(axis=1)) if len(changed) < 64 else []
            if len(known):
                self.bits[known[0]] = signs
            else:
                new_ids.append(key)
                new_bits.append(signs)
        if new_ids:
            self.ids = np.vstack([self.ids, np.stack(new_ids)])
            self.bits = np.vstack([self.bits, np.stack(new_bits)])
            if len(changed) >= 64:  # a bulk load: drop older copies of the same ids, keep the last
                _, last = np.unique(self.ids[::-1], axis=0, return_index=True)
                keep = np.sort(len(self.ids) - 1 - last)
                self.ids, self.bits = self.ids[keep], self.bits[keep]

    def nearest(self, query: np.ndarray, k: int) -> list[tuple[uuid.UUID, float]]:
        """The ``k`` sessions most similar to the unit vector ``query``: (id, cosine) best first."""
        self.refresh()
        ids, bits = self.ids, self.bits
        if not len(ids):
            return []
        distance = np.bitwise_count(bits ^ np.packbits(query > 0)).sum(axis=1, dtype=np.uint16)
        take = min(self.rerank, len(ids))
        candidates = np.argpartition(distance, take - 1)[:take]
        keyring = settings.ANNORIS_KEYRING
        wanted = [uuid.UUID(bytes=ids[i].tobytes()) for i in candidates]
        scored = []
        for session_id, token in SearchVector.objects.filter(session_id__in=wanted).values_list(
            "session_id", "ciphertext"
        ):
            try:
                vector = np.frombuffer(decrypt(bytes(token), keyring), dtype=np.int8)
            except DecryptionError:
                continue
            scored.append((_uuid(session_id), float(vector.astype(np.float32) @ query) / SCALE))
        scored.sort(key=lambda pair: -pair[1])
        return scored[:k]


def _uuid(value: object) -> uuid.UUID:
    return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))


_index = per_process(VectorIndex())


def nearest(query_text: str, k: int) -> list[tuple[uuid.UUID, float]]:
    """Sessions nearest in meaning to ``query_text`` (the process's vector index, refreshed)."""
    return _index.nearest(_query_vector(query_text), k)


@lru_cache(maxsize=256)  # assistants repeat queries; embedding one costs 5-30 ms. Memory only.
def _query_vector(text: str) -> np.ndarray:
    vector = embed([text])[0]
    vector.flags.writeable = False
    return vector
