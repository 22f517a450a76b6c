"""Did a write whose answer was lost land? Find out before sending it again (issue #20).

A write can reach GitHub and its answer never reach us: the client timed out, or the web
process was killed between GitHub's commit and the answer. Sending it again blind either
fails (a create finds its own file: "already exists") or, for an update, can apply twice
once the file is back at the old blob SHA (the precondition's ABA gap). So the next attempt
looks first: the file's current content, then the commits that touched the path since.
"""

from __future__ import annotations

from datetime import datetime

from annoris.sources.base import Source, SourceError, WriteResult, git_blob_sha
from sync_app.writes.source import remote_sha


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
