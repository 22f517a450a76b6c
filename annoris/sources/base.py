"""The Source protocol: where session files come from.

A source lists the session files it holds with their git blob SHAs, reads them,
and (where it can) writes and deletes them. The sync engine and the read path
talk only to this protocol; ``get_source()`` picks the backend from settings.
"""

from __future__ import annotations

import fnmatch
import hashlib
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol, runtime_checkable

# Namespace for session ids derived from (repository, path); never change it:
# ids must survive database rebuilds (DESIGN: identity).
SESSION_ID_NAMESPACE = uuid.UUID("6f0c1a4e-3b5d-5f7a-9c2e-a17e5e55104e")


def git_blob_sha(data: bytes) -> str:
    """The git blob id of ``data``, equal to ``git hash-object --no-filters``."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()  # noqa: S324 - git's id, not security


def matches_glob(path: str, pattern: str) -> bool:
    """fnmatch on the full path, where a leading ``**/`` also matches top-level files."""
    if fnmatch.fnmatchcase(path, pattern):
        return True
    return pattern.startswith("**/") and fnmatch.fnmatchcase(path, pattern[3:])


def session_id_for(repository: str, path: str) -> uuid.UUID:
    """Stable id of the session stored at ``path`` in ``repository``."""
    return uuid.uuid5(SESSION_ID_NAMESPACE, f"{repository}:{path}")


@dataclass(frozen=True)
class SourceFile:
    """One session file in a listing."""

    path: str
    sha: str  # git blob SHA, 40 hex (a stand-in id for a file the source could not or would not read)
    size: int | None = None
    # When the source's history says the file last changed, where one call gets it (a local
    # file's mtime): the date of a session whose document gives none.
    modified: datetime | None = None


@dataclass(frozen=True)
class Listing:
    """What ``Source.list_files()`` returns.

    ``revision`` is the commit the listing was taken at (None for a plain
    directory). ``not_modified`` is True when the source could tell, cheaply
    (an ETag 304), that nothing changed since its previous listing; ``files``
    is still complete in that case. ``skipped`` names entries the source saw but
    did not list, each with the reason (a symbolic link, a FIFO, a device, a folder
    it could not open), so the sync log can show them.
    """

    files: tuple[SourceFile, ...]
    revision: str | None = None
    not_modified: bool = False
    stats: dict[str, object] = field(default_factory=dict)
    skipped: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class WriteResult:
    """Outcome of a write: the new blob SHA and the commit that holds it."""

    path: str
    sha: str | None
    revision: str | None = None


class SourceError(Exception):
    """Base class for source failures callers can act on.

    A remote source (GitHub) attaches what it answered: ``status`` (HTTP, when there was an
    answer), its own ``github_message``, ``errors`` and ``documentation_url``, a ``hint`` at
    what to check, and ``retry_after`` (seconds) when it said when to come back.
    """

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        github_message: str = "",
        errors: tuple[str, ...] = (),
        documentation_url: str | None = None,
        hint: str = "",
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.github_message = github_message
        self.errors = errors
        self.documentation_url = documentation_url
        self.hint = hint
        self.retry_after = retry_after


class SourceNotFound(SourceError):
    """The file does not exist in the source."""


class SourceConflict(SourceError):
    """The file changed in the source since the SHA the writer knew."""


class SourceUnavailable(SourceError):
    """The source cannot be reached or refuses service for now."""


class SourceForbidden(SourceUnavailable):
    """The source refuses these credentials (a bad token, a missing permission): retrying,
    or queueing a write for later, will not help until an operator fixes them."""


class SourceOutcomeUnknown(SourceUnavailable):
    """A write was sent and no answer came (a read timeout, a reset connection): the source may
    have applied it, now or later. Find out before sending it again (issue #20, finding 2)."""


@runtime_checkable
class Source(Protocol):
    """Where session files live. ``repository`` names it for session ids.

    A source that spends an API budget may also offer ``usage() -> dict`` with
    cumulative ``api_calls``, ``api_calls_by_endpoint`` and ``rate_limit_remaining``;
    the engine reports the difference a run made.
    """

    repository: str
    kind: str  # what it is, as X-Annoris-Source names it: "github" or "local"

    def list_files(self) -> Listing:
        """All session files with their blob SHAs (one call, ETag-cached where possible)."""
        ...

    def read(self, path: str) -> bytes:
        """The raw bytes of one file. Raises SourceNotFound."""
        ...

    def read_many(self, files: Iterable[SourceFile]) -> Iterator[tuple[SourceFile, bytes | SourceError]]:
        """Read several files, yielding each with its bytes or the error that file met."""
        ...

    def write(self, path: str, content: bytes, *, sha: str | None, message: str) -> WriteResult:
        """Create (sha=None) or replace (sha=previous blob SHA) a file. Raises SourceConflict."""
        ...

    def delete(self, path: str, *, sha: str, message: str) -> WriteResult:
        """Delete a file known at blob ``sha``. Raises SourceConflict or SourceNotFound."""
        ...
