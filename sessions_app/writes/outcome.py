"""Did a write whose answer was lost land? Find out before sending it again (issue #20).

A write can reach GitHub and its answer never reach us: the client timed out, or the web
process was killed between GitHub's commit and the answer. Sending it again blind either
fails (a create finds its own file: "already exists") or, for an update, can apply twice
once the file is back at the old blob SHA (the precondition's ABA gap). So the next attempt
looks first: the file's current content, then the commits that touched the path since.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone

from annoris.sources.base import Source, SourceError, WriteResult, git_blob_sha
from sessions_app.writes.source import remote_sha


def already_there(source: Source, path: str, text: str | None) -> WriteResult | None:
    """The write's result when ``path`` holds exactly ``text`` now (None for a delete: no file),
    with the commit that put it there when the source keeps history; None when it does not."""
    wanted = git_blob_sha(text.encode("utf-8")) if text is not None else None
    try:
        if remote_sha(source, path) != wanted:
            return None
        return WriteResult(path=path, sha=wanted, revision=_commit_of(source, path, wanted, None))
    except SourceError:
        return None  # cannot tell: the caller keeps its refusal (or retries later)


def landed_since(source: Source, path: str, text: str | None, since: datetime) -> WriteResult | None:
    """``already_there``, or a commit since ``since`` that left ``path`` holding ``text`` (the write
    landed and was changed again since). Raises SourceError when the source cannot be asked."""
    wanted = git_blob_sha(text.encode("utf-8")) if text is not None else None
    if remote_sha(source, path) == wanted:
        return WriteResult(path=path, sha=wanted, revision=_commit_of(source, path, wanted, None))
    if wanted is None:
        return None
    commit = _commit_of(source, path, wanted, since)
    return WriteResult(path=path, sha=wanted, revision=commit) if commit else None


def _commit_of(source: Source, path: str, blob_sha: str | None, since: datetime | None) -> str | None:
    find = getattr(source, "find_commit", None)  # GitHub keeps history; a local folder does not
    if find is None or blob_sha is None:
        return None
    return find(path, blob_sha, since=since)


def settle(entry: Any, source: Source, text: str | None) -> WriteResult | float | None:
    """For an outbox entry whose last try went unanswered: its result if that try landed; the
    seconds to wait while it may still land (ANNORIS_OUTBOX_SETTLE_SECONDS since it was sent);
    None when it did not land and no longer can: send it again. Raises SourceError."""
    since = entry.created_at - timedelta(minutes=1)  # the unanswered try went out before the entry
    landed = landed_since(source, entry.path, text, since)
    if landed is not None:
        return landed
    waited = (timezone.now() - entry.outcome_unknown_since).total_seconds()
    remaining = settings.ANNORIS_OUTBOX_SETTLE_SECONDS - waited
    return remaining if remaining > 0 else None
