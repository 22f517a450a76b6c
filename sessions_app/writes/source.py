"""The source a write goes to: the configured one, with a write's patience.

A write that cannot reach GitHub within ``ANNORIS_WRITE_TIMEOUT`` goes to the outbox
(202) rather than keeping the client waiting through the sync's long retries.
"""

from __future__ import annotations

from django.conf import settings

from annoris.sources import get_source
from annoris.sources.base import Source, SourceNotFound, git_blob_sha


def write_source() -> Source:
    timeout = settings.ANNORIS_WRITE_TIMEOUT
    return get_source(
        client_options={
            "timeout": (min(3.05, timeout), timeout),
            # No retry inside the request: a failure goes to the outbox, whose retries do not keep
            # a client (and a web worker) waiting. An update costs at most two timeouts (look, PUT).
            "max_retries": 0,
            "max_wait": min(timeout, 5.0),  # a longer rate-limit wait is the outbox's to sit out
            "backoff": 0.2,
        }
    )


def remote_sha(source: Source, path: str) -> str | None:
    """The blob SHA the source holds at ``path`` now, None when there is no file. Raises SourceError."""
    try:
        return git_blob_sha(source.read(path))
    except SourceNotFound:
        return None
