"""Encrypted sentence vectors: written per session, held decrypted only in a searching process.

At rest a vector is an ``annoris.crypto`` token (AES-256-GCM under the keyring's primary key)
of 512 int8 components: no float array reaches the database, Redis, a log or a file. A web
process decrypts them once into one int8 matrix (512 bytes a session: 51 MB at 100,000) and
then reads only the rows changed since (``updated_at``), at most every REFRESH_SECONDS.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterable

import numpy as np
from django.conf import settings
from django.db import transaction

from annoris.crypto import DecryptionError, decrypt, encrypt
from sessions_app.models import SearchVector, Session

from .embedding import DIMENSIONS, SCALE, document_text, embed, quantize

__all__ = ["VectorIndex", "embed_pending", "nearest", "rotate_vectors", "store_vectors", "vectors_waiting"]

REFRESH_SECONDS = 2.0
EMBED_BATCH = 32
CHUNK_ROWS = 16_384  # rows scored at a time: bounds the float32 temporary to 32 MB


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
    return len(rows)


def vectors_waiting() -> int:
    """Live sessions with no vector under the current key."""
    key_id = settings.ANNORIS_KEYRING.keys[0][0]
    return Session.objects.live().exclude(search_vector__key_id=key_id).count()


def embed_pending(*, batch_size: int = EMBED_BATCH) -> int:
    """Embed sessions that have no vector under the current key (after an import); returns how many.

    Sessions that cannot be decrypted are skipped (``reindex_search`` reports them)."""
    key_id = settings.ANNORIS_KEYRING.keys[0][0]
    pending = (
        Session.objects.exclude(search_vector__key_id=key_id).order_by("id").only("id", "title", "content")
    )
    done, last = 0, None
    while True:
        rows = list((pending.filter(id__gt=last) if last else pending)[:batch_size])
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
        done += len(batch)


class VectorIndex:
    """The decrypted vectors of one process: an int8 matrix, its session ids, and what is new."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self._clear()

    def _clear(self) -> None:
        self.ids: list[uuid.UUID] = []
        self.rows: dict[uuid.UUID, int] = {}
        self.matrix = np.zeros((0, DIMENSIONS), dtype=np.int8)
        self.seen_until = None
        self.checked = 0.0
        self.key_id = ""

    def refresh(self) -> None:
        now = time.monotonic()
        keyring = settings.ANNORIS_KEYRING
        if now < self.checked and self.key_id == keyring.keys[0][0]:
            return
        with self.lock:
            if self.key_id != keyring.keys[0][0] or SearchVector.objects.count() < len(self.ids):
                self._clear()  # a new key, or vectors deleted (a rebuild, sessions deleted): reload
                self.key_id = keyring.keys[0][0]
            query = SearchVector.objects.order_by("updated_at")
            if self.seen_until is not None:
                query = query.filter(updated_at__gte=self.seen_until)
            changed = list(query.values_list("session_id", "ciphertext", "updated_at"))
            self._apply(changed, keyring)
            self.checked = time.monotonic() + REFRESH_SECONDS

    def _apply(self, changed: list[tuple], keyring: object) -> None:
        new_rows = []
        for session_id, token, updated_at in changed:
            try:
                vector = np.frombuffer(decrypt(bytes(token), keyring), dtype=np.int8)
            except DecryptionError:
                continue
            self.seen_until = updated_at
            if session_id in self.rows:
                self.matrix[self.rows[session_id]] = vector
            else:
                self.rows[session_id] = len(self.ids) + len(new_rows)
                new_rows.append((session_id, vector))
        if new_rows:
            self.ids.extend(sid for sid, _ in new_rows)
            self.matrix = np.vstack([self.matrix, np.stack([v for _, v in new_rows])])

    def nearest(self, query: np.ndarray, k: int) -> list[tuple[uuid.UUID, float]]:
        """The ``k`` sessions most similar to the unit vector ``query``: (id, cosine) best first."""
        self.refresh()
        matrix, ids = self.matrix, self.ids
        if not ids:
            return []
        scores = np.empty(len(ids), dtype=np.float32)
        for start in range(0, len(ids), CHUNK_ROWS):
            block = matrix[start : start + CHUNK_ROWS].astype(np.float32)
            scores[start : start + len(block)] = block @ query
        scores /= SCALE
        k = min(k, len(ids))
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top])]
        return [(ids[i], float(scores[i])) for i in top]


_index = VectorIndex()


def nearest(query_text: str, k: int) -> list[tuple[uuid.UUID, float]]:
    """Sessions nearest in meaning to ``query_text`` (the process's vector index, refreshed)."""
    return _index.nearest(embed([query_text])[0], k)
