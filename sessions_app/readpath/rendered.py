"""The read path's one seam for throughput (issue #18): each cached session's API answer, encrypted.

Why: a cache hit of ``GET /api/sessions/{id}/`` through the row (unpickle, ``from_db``, the dict,
decrypt, render) cost gunicorn 1,337 µs of CPU a request; from here (one GET, one decrypt, one
write) 1,096 (docs/benchmarks.md, "rendered answers"). The JSON's ``url`` is left empty for the
request to fill. Written and dropped with the row (``cache``): never older than the cached row."""

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
    """The row's answer, encrypted; None for a deleted row, an unloaded project, an edge date."""
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
