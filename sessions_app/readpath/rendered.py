"""The read path's one seam for throughput: each cached session's API answer, rendered and encrypted.

Why: a cache hit of ``GET /api/sessions/{id}/`` through the row (one GET, unpickling the row,
``Model.from_db``, building the detail dict, decrypting the document, orjson) served ~0.61 of a
bare DRF view's requests/s (issue #18's target: 0.70). Here a hit is one GET, one decrypt, one
replace (the request's absolute URL) and one write. The gain, measured with
``bench/api_read.py``, is written in docs/benchmarks.md ("API cache-hit read ... rendered
answers").

Freshness: the answer is written and deleted in the same calls as the cached row
(``cache.add_row``, ``set_rows``, ``drop``), so it is never older than the row the cache holds.
It is the JSON of ``detail_representation`` with an empty ``url`` (the request's host and script
prefix are only known when serving), encrypted under the keyring like the row's content:
Redis holds no plaintext. Anything unusual (a deleted session, a date at the calendar's edge, a
project not loaded, another key) is not stored or is a miss, and the full read path answers.
"""

from __future__ import annotations

import logging
import uuid
from typing import NamedTuple

import orjson
from django.conf import settings

from annoris import crypto
from annoris.api.renderers import JSONRenderer
from sessions_app.models import Session
from sessions_app.serializers import detail_representation

logger = logging.getLogger("annoris.readpath.rendered")

KEY_PREFIX = "annoris:v1:rendered"  # bump when detail_representation's shape changes
# The ``url`` key with an empty value: orjson escapes every quote inside a string, so this byte
# sequence can only be the key itself.
_URL_SLOT = b'"url":""'
NO_ANSWER = b"-"  # cached beside a row the full read path must answer for (see cache.set_rows)


class Answer(NamedTuple):
    """A cached answer: the blob SHA (the ETag) and the JSON with its ``url`` left empty."""

    sha: str
    body: bytes

    def with_url(self, url: str) -> bytes:
        """The body as the full read path renders it, with this absolute URL in its place."""
        return self.body.replace(_URL_SLOT, b'"url":' + orjson.dumps(url), 1)


def key(session_id: uuid.UUID | str) -> str:
    return f"{KEY_PREFIX}:{session_id}"


def encode(row: Session) -> bytes | None:
    """The row's answer, encrypted; None when the full read path must answer for it."""
    if row.deleted_at is not None or (row.project_id is not None and not Session.project.is_cached(row)):
        return None  # a 404, or a project name that would cost a query
    if any(d is not None and d.year in (1, 9999) for d in (row.created_at, row.last_synced)):
        return None  # may not fit the local time zone: the read path refuses it with a sentence
    try:
        data = detail_representation(row, None)
    except crypto.DecryptionError:
        return None
    data["url"] = ""
    body = JSONRenderer().render(data)
    return crypto.encrypt(row.github_sha.encode("ascii") + b"\n" + body, settings.ANNORIS_KEYRING)


def decode(token: object) -> Answer | None:
    """The answer a cached token holds; None for anything else (a miss, never an error)."""
    if not isinstance(token, bytes) or token == NO_ANSWER:
        return None
    try:
        plain = crypto.decrypt(token, settings.ANNORIS_KEYRING)
    except crypto.DecryptionError:  # a key no longer configured, or not ours: the full path decides
        return None
    sha, _, body = plain.partition(b"\n")
    return Answer(sha.decode("ascii"), body) if _URL_SLOT in body else None
