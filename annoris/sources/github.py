"""GitHubSource: the session files of one branch of a GitHub repository.

Listing is incremental: one branch call tells the head commit and root tree; when the
tree is the one listed last time nothing else is fetched (git trees are content
addressed, so an equal SHA means an equal listing). Otherwise one recursive tree call,
conditional on the ETag kept in ``state``, or a walk per folder when GitHub truncates
it. Reads use blob SHAs from the listing; large batches come from one tarball.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import Any

from annoris.sources.base import (
    Listing,
    SourceError,
    SourceFile,
    SourceNotFound,
    WriteResult,
    git_blob_sha,
    matches_glob,
)
from annoris.sources.github_client import (
    GitHubClient,
    NotModified,
    Tree,
    TreeEntry,
    Unauthorized,
    Unavailable,
)

# Above this many files, read_many downloads one tarball instead of one blob per file.
# A blob costs one API call and one round trip (~50-100 ms to api.github.com, serial per
# GitHub's advice); the tarball costs one API call plus the download of the whole branch
# (codeload, outside the rate limit): a few MB for thousands of small session files, a
# second or two. Around 100 files, blob reads take 5-10 s and 2% of the hourly 5,000-call
# budget, so beyond that the archive wins on both; a push of a handful of files stays on
# exact per-blob reads.
DEFAULT_ARCHIVE_THRESHOLD = 100

_FATAL = (Unauthorized, Unavailable)  # whole-source failures: stop, do not record per file
_SYMLINK = "120000"


class GitHubSource:
    """Session files matching ``glob`` on ``branch`` of the client's repository."""

    kind = "github"

    def __init__(
        self,
        client: GitHubClient,
        *,
        branch: str = "main",
        glob: str = "**/*.md",
        archive_threshold: int = DEFAULT_ARCHIVE_THRESHOLD,
        state: dict[str, Any] | None = None,
    ) -> None:
        self.client = client
        self.branch = branch
        self.glob = glob
        self.archive_threshold = archive_threshold
        # Plain JSON-able dict the caller may persist between processes:
        # {"etag", "tree_sha", "revision", "files": [[path, sha, size], ...]}.
        self.state: dict[str, Any] = state if state is not None else {}
        self.repository = client.repo

    @property
    def revision(self) -> str | None:
        """The commit of the last listing (the last synced commit once the engine applies it)."""
        return self.state.get("revision")

    def usage(self) -> dict[str, Any]:
        """Cumulative API use of this source: calls (retries included), per endpoint, rate limit left."""
        return {
            "api_calls": self.client.calls,
            "api_calls_by_endpoint": dict(self.client.calls_by_endpoint),
            "rate_limit_remaining": self.client.rate_limit.remaining,
        }

    # -- listing ------------------------------------------------------------------------

    def list_files(self) -> Listing:
        """All files matching the glob at the branch head, with blob SHAs (1 call when unchanged)."""
        calls_before = self.client.calls
        branch = self.client.get_branch(self.branch)
        cached = self.state.get("files")
        not_modified = cached is not None and self.state.get("tree_sha") == branch.tree_sha
        truncated = False
        if not not_modified:
            etag = self.state.get("etag") if cached is not None else None  # a 304 needs the old listing
            tree = self.client.get_tree(branch.tree_sha, recursive=True, etag=etag)
            if isinstance(tree, NotModified):
                not_modified = True
            else:
                truncated = tree.truncated
                entries = self._walk(tree.sha) if tree.truncated else tree.entries
                self.state["files"] = [[e.path, e.sha, e.size] for e in entries if self._wanted(e)]
                self.state["etag"] = None if tree.truncated else tree.etag
        self.state.update(tree_sha=branch.tree_sha, revision=branch.commit_sha)
        stats = {
            "api_calls": self.client.calls - calls_before,
            "rate_limit_remaining": self.client.rate_limit.remaining,
            "truncated": truncated,
        }
        return Listing(
            files=self._files(), revision=branch.commit_sha, not_modified=not_modified, stats=stats
        )

    def _walk(self, root_sha: str) -> list[TreeEntry]:
        """Every entry below ``root_sha``, one call per folder (GitHub's remedy for truncation)."""
        found: list[TreeEntry] = []
        pending = [("", root_sha)]
        while pending:
            prefix, sha = pending.pop()
            tree = self.client.get_tree(sha, recursive=False)
            assert isinstance(tree, Tree)  # no etag sent, so never NotModified
            for e in tree.entries:
                path = prefix + e.path
                if e.type == "tree":
                    pending.append((path + "/", e.sha))
                else:
                    found.append(TreeEntry(path=path, mode=e.mode, type=e.type, sha=e.sha, size=e.size))
        return found

    def _wanted(self, entry: TreeEntry) -> bool:
        if entry.type != "blob" or entry.mode == _SYMLINK:
            return False  # folders, submodules and symlinks are not session documents
        return matches_glob(entry.path, self.glob)

    def _files(self) -> tuple[SourceFile, ...]:
        return tuple(SourceFile(path=p, sha=s, size=n) for p, s, n in self.state.get("files") or [])

    def _sha_of(self, path: str) -> str | None:
        for p, sha, _ in self.state.get("files") or []:
            if p == path:
                return sha
        return None

    # -- reads ---------------------------------------------------------------------------

    def read(self, path: str) -> bytes:
        """One file: its blob when the last listing knows it (1 call), else the Contents API."""
        sha = self._sha_of(path)
        if sha is not None:
            return self.client.get_blob(sha)
        return self.client.get_contents(path, ref=self.branch).content

    def read_many(self, files: Iterable[SourceFile]) -> Iterator[tuple[SourceFile, bytes | SourceError]]:
        """Each file with its bytes or its error; one tarball when there are more than the threshold."""
        wanted = list(files)
        if len(wanted) > self.archive_threshold:
            yield from self._read_archive(wanted)
            return
        for f in wanted:
            yield f, self._read_blob(f)

    def _read_blob(self, f: SourceFile) -> bytes | SourceError:
        try:
            return self.client.get_blob(f.sha)
        except _FATAL:
            raise
        except SourceError as exc:
            return exc

    def _read_archive(self, wanted: list[SourceFile]) -> Iterator[tuple[SourceFile, bytes | SourceError]]:
        by_path = {f.path: f for f in wanted}
        for path, data in self.client.iter_tarball(self.revision or self.branch):
            f = by_path.pop(path, None)
            if f is None:
                continue
            # git archive applies export attributes (eol, export-subst): bytes that do not hash
            # to the listed blob are fetched as the blob, so content always matches its SHA.
            yield f, data if git_blob_sha(data) == f.sha else self._read_blob(f)
        for f in by_path.values():
            yield f, SourceNotFound(f"{f.path} is not in the archive of {self.revision or self.branch}")

    # -- writes --------------------------------------------------------------------------

    def write(self, path: str, content: bytes, *, sha: str | None, message: str) -> WriteResult:
        """Create (sha=None) or replace a file in one commit; a stale ``sha`` raises SourceConflict."""
        blob_sha, commit = self.client.put_contents(
            path, content=content, message=message, sha=sha, branch=self.branch
        )
        self._remember(path, [path, blob_sha, len(content)] if matches_glob(path, self.glob) else None)
        return WriteResult(path=path, sha=blob_sha, revision=commit)

    def delete(self, path: str, *, sha: str, message: str) -> WriteResult:
        """Delete a file known at ``sha``; raises SourceConflict or SourceNotFound."""
        commit = self.client.delete_contents(path, sha=sha, message=message, branch=self.branch)
        self._remember(path, None)
        return WriteResult(path=path, sha=None, revision=commit)

    def find_commit(
        self, path: str, blob_sha: str, *, since: datetime | None = None, depth: int = 10
    ) -> str | None:
        """The newest of the last ``depth`` commits touching ``path`` (after ``since``) that left it
        at ``blob_sha``, or None: did a write whose answer was lost land, even if overwritten since?"""
        stamp = since.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if since else None
        for commit in self.client.list_commits(path=path, ref=self.branch, since=stamp, per_page=depth):
            try:
                if self.client.get_contents(path, ref=commit).sha == blob_sha:
                    return commit
            except SourceNotFound:
                continue  # the commit deleted it
        return None

    def _remember(self, path: str, row: list[Any] | None) -> None:
        """Keep read() on the SHA we just wrote; the next listing refreshes everything anyway."""
        if self.state.get("files") is None:
            return
        rows = [r for r in self.state["files"] if r[0] != path]
        self.state["files"] = rows + ([row] if row else [])
