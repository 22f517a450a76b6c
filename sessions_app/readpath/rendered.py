"""The read path's one seam for throughput (issue #18): each cached session's API answer, encrypted.

A cache hit of ``GET /api/sessions/{id}/`` through the row (unpickle, ``from_db``, the detail
dict, decrypting, rendering) cost gunicorn 1,570 µs of CPU against the bare view's 737; served
from here (one GET, one decrypt, one replace, one write) 1,153 (docs/benchmarks.md). The answer
is ``detail_representation``'s JSON with an empty ``url`` (the request fills it), encrypted
under the keyring, written and dropped with the row (``cache.add_row``, ``set_rows``, ``drop``):
never older than the cached row. A row it cannot answer for gets ``NO_ANSWER`` (the full path).
"""

from __future__ import annotations

import uuid
from typing import NamedTuple

import orjson
from django.conf import settings

from annoris import crypto
from annoris.api.renderers import JSONRenderer
from sessions_app.models import Session
from sessions_app.serializers import detail_representation

KEY_PREFIX = "annoris:v1:rendered"  # bump when detail_representation's shape changes
_URL_SLOT = b'"url":""'  # orjson escapes quotes inside strings: only the key itself reads so
NO_ANSWER = b"-"


class Answer(NamedTuple):
    sha: str  # the blob SHA: the ETag
    body: bytes  # the JSON, its url empty

    def with_url(self, url: str) -> bytes:
        return self.body.replace(_URL_SLOT, b'"url":' + orjson.dumps(url), 1)


def key(session_id: uuid.UUID | str) -> str:
    return f"{KEY_PREFIX}:{session_id}"


def encode(row: Session) -> bytes | None:
    """The row's answer, encrypted; None for a row the full read path must answer for: deleted,
    a project not loaded, a date at the calendar's edge (the read path refuses it with a sentence)."""
    if row.deleted_at is not None or (row.project_id is not None and not Session.project.is_cached(row)):
        return None
    if any(d is not None and d.year in (1, 9999) for d in (row.created_at, row.last_synced)):
        return None
    try:
        data = detail_representation(row, None) | {"url": ""}
    except crypto.DecryptionError:
        return None
    body = JSONRenderer().render(data)
    return crypto.encrypt(row.github_sha.encode("ascii") + b"\n" + body, settings.ANNORIS_KEYRING)


def decode(token: object) -> Answer | None:
    """The answer a cached token holds; None (a miss) for anything else, a retired key's included."""
    if not isinstance(token, bytes):
        return None  # a miss
    try:  # NO_ANSWER has no token's prefix: an error too
        sha, _, body = crypto.decrypt(token, settings.ANNORIS_KEYRING).partition(b"\n")
    except crypto.DecryptionError:
        return None
    return Answer(sha.decode("ascii"), body) if _URL_SLOT in body else None
