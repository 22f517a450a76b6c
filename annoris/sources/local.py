"""LocalSource: session files in a directory on disk (the embedded default).

Nothing outside the directory is ever opened, ``stat()``-ed (beyond ``lstat``) or hashed:
links are not followed (in git a link is not a document), and every file is opened one path
component at a time with ``O_NOFOLLOW``, so a link swapped in mid-listing cannot lead out
either. FIFOs, sockets and devices are skipped unopened. No file is read past ``max_bytes``.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath

from annoris.sources.atomic import path_lock, remove_at, replace_at
from annoris.sources.base import (
    Listing,
    SourceConflict,
    SourceError,
    SourceFile,
    SourceNotFound,
    WriteResult,
    git_blob_sha,
    matches_glob,
)
from annoris.sources.unread import file_kind, stand_in_sha

# The largest file a source reads (bytes). The document parser refuses bigger files
# anyway (sessions_app.documents.MAX_DOCUMENT_BYTES, kept equal by a test); a source
# in annoris/ cannot import it, so the cap is its own constructor argument.
MAX_FILE_BYTES = 1_000_000

_DIR = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
# O_NONBLOCK: should a FIFO be swapped in between lstat and open, the open does not hang.
_FILE = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC


class LocalSource:
    """A directory tree; blob SHAs are computed exactly as ``git hash-object`` does.

    Like git's index, a stat cache in ``state`` (path -> size, mtime, SHA) lets a
    listing skip hashing files that have not changed, so a sync with nothing
    changed opens no file. ``reads`` counts the files opened, for tests.

    A file over ``max_bytes`` or one that cannot be opened is still listed (with a
    stand-in SHA and its size) so that the sync reports it as a failed file and
    keeps its session instead of deleting it. Entries that are not documents at
    all (links, FIFOs, sockets, devices, unreadable folders) go to
    ``Listing.skipped`` with the reason.
    """

    kind = "local"

    def __init__(
        self,
        root: str | Path,
        *,
        glob: str = "**/*.md",
        repository: str = "local",
        state: dict | None = None,
        max_bytes: int = MAX_FILE_BYTES,
    ) -> None:
        self.root = Path(root).resolve()
        self.glob = glob
        self.repository = repository
        self.state: dict = state if state is not None else {}
        self.max_bytes = max_bytes
        self.reads = 0

    # -- listing ----------------------------------------------------------------------

    def list_files(self) -> Listing:
        if not self.root.is_dir():
            raise SourceNotFound(f"sessions directory {self.root} does not exist")
        old = self.state.get("stat", {})
        stat_cache: dict[str, list] = {}
        files: list[SourceFile] = []
        skipped: list[tuple[str, str]] = []
        for rel, info, problem in self._walk():
            if problem is not None:
                skipped.append((rel, problem))
                continue
            assert info is not None
            key = [info.st_size, info.st_mtime_ns]
            cached = old.get(rel)
            if cached and cached[:2] == key:
                sha = cached[2]
            elif info.st_size > self.max_bytes:
                sha = stand_in_sha("too large", info)  # never opened: the plan refuses it by size
            else:
                try:
                    sha = git_blob_sha(self._read_rel(rel))
                except SourceError:
                    # Unreadable (permissions, vanished, changed kind): list it so the run
                    # fails this one file by name on read; do not cache, retry next time.
                    stand_in = stand_in_sha("unreadable", info)
                    files.append(SourceFile(path=rel, sha=stand_in, size=info.st_size))
                    continue
            stat_cache[rel] = [*key, sha]
            modified = datetime.fromtimestamp(info.st_mtime, tz=UTC)
            files.append(SourceFile(path=rel, sha=sha, size=info.st_size, modified=modified))
        self.state["stat"] = stat_cache
        return Listing(files=tuple(files), not_modified=stat_cache == old, skipped=tuple(skipped))

    def _walk(self) -> Iterator[tuple[str, os.stat_result | None, str | None]]:
        """(relative path, lstat, None) for each regular file matching the glob, or
        (relative path, None, reason) for an entry that is skipped. Uses only lstat."""
        pending = [""]
        while pending:
            rel_dir = pending.pop()
            try:
                entries = self._scan(rel_dir)
            except OSError as exc:
                yield rel_dir or ".", None, f"cannot open folder: {exc.strerror or exc}"
                continue
            subdirs = []
            for name, info in entries:
                rel = f"{rel_dir}/{name}" if rel_dir else name
                if stat.S_ISDIR(info.st_mode):
                    if not name.startswith("."):
                        subdirs.append(rel)
                    continue
                if not matches_glob(rel, self.glob):
                    continue
                if stat.S_ISREG(info.st_mode):
                    yield rel, info, None
                else:
                    yield rel, None, f"skipped: {file_kind(info.st_mode)}"
            pending.extend(reversed(subdirs))

    def _scan(self, rel_dir: str) -> list[tuple[str, os.stat_result]]:
        """The entries of a folder with their lstat, sorted by name."""
        fd = self._open_dir(rel_dir)
        try:
            found = []
            with os.scandir(fd) as it:
                for entry in it:
                    try:
                        found.append((entry.name, entry.stat(follow_symlinks=False)))
                    except FileNotFoundError:
                        continue  # removed while listing
            return sorted(found)
        finally:
            os.close(fd)

    # -- safe opening -----------------------------------------------------------------

    def _parts(self, path: str) -> list[str]:
        pure = PurePosixPath(path)
        parts = [p for p in pure.parts if p not in ("", ".")]
        if pure.is_absolute() or not parts or ".." in parts or "\0" in path:
            raise SourceNotFound(f"{path!r} is outside the sessions directory")
        return parts

    def _open_dir(self, rel_dir: str, *, create: bool = False) -> int:
        """A descriptor of a folder inside the root, reached without following any link."""
        fd = os.open(self.root, _DIR)
        try:
            for part in self._parts(rel_dir) if rel_dir else []:
                if create:
                    try:
                        os.mkdir(part, dir_fd=fd)
                    except FileExistsError:
                        pass
                child = os.open(part, _DIR, dir_fd=fd)
                # Swap before closing: an exception raised between the two (SIGTERM becomes
                # SystemExit anywhere) must not make the handler below close a closed fd,
                # which turned an interrupted sync into "Bad file descriptor" on a file.
                parent, fd = fd, child
                os.close(parent)
        except BaseException:
            os.close(fd)
            raise
        return fd

    def _read_rel(self, path: str) -> bytes:
        """The bytes of a regular file inside the root, at most ``max_bytes`` (else SourceError)."""
        parts = self._parts(path)
        try:
            dir_fd = self._open_dir("/".join(parts[:-1]))
        except OSError as exc:
            raise self._os_error(path, exc) from None
        try:
            info = os.stat(parts[-1], dir_fd=dir_fd, follow_symlinks=False)
            if stat.S_ISLNK(info.st_mode):
                raise SourceNotFound(f"{path} is a symbolic link; links are not followed")
            if not stat.S_ISREG(info.st_mode):
                raise SourceError(f"{path}: {file_kind(info.st_mode)}, not read")
            self._check_size(path, info.st_size)
            fd = os.open(parts[-1], _FILE, dir_fd=dir_fd)
        except OSError as exc:
            raise self._os_error(path, exc) from None
        finally:
            os.close(dir_fd)
        self.reads += 1
        try:
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode):  # swapped since the lstat
                raise SourceError(f"{path}: {file_kind(info.st_mode)}, not read")
            chunks, size = [], 0
            while size <= self.max_bytes:
                chunk = os.read(fd, min(1 << 20, self.max_bytes + 1 - size))
                if not chunk:
                    break
                chunks.append(chunk)
                size += len(chunk)
            self._check_size(path, size)  # it grew since the stat
            return b"".join(chunks)
        except OSError as exc:
            raise self._os_error(path, exc) from None
        finally:
            os.close(fd)

    def _check_size(self, path: str, size: int) -> None:
        if size > self.max_bytes:
            raise SourceError(f"{path}: file too large ({size} bytes, limit {self.max_bytes})")

    def _os_error(self, path: str, exc: OSError) -> SourceError:
        if exc.errno in (errno.ENOENT, errno.ENOTDIR):
            return SourceNotFound(f"{path} not found in {self.root}")
        if exc.errno == errno.ELOOP:
            return SourceNotFound(f"{path} is a symbolic link or lies below one; links are not followed")
        return SourceError(f"{path}: {exc.strerror or exc}")

    # -- the Source protocol ------------------------------------------------------------

    def read(self, path: str) -> bytes:
        return self._read_rel(path)

    def read_many(self, files: Iterable[SourceFile]) -> Iterator[tuple[SourceFile, bytes | SourceError]]:
        for item in files:
            try:
                yield item, self.read(item.path)
            except SourceError as exc:
                yield item, exc

    def _current_sha(self, path: str) -> str | None:
        try:
            return git_blob_sha(self._read_rel(path))
        except SourceNotFound:
            return None

    def write(self, path: str, content: bytes, *, sha: str | None, message: str) -> WriteResult:
        """Create (sha=None) or replace a file atomically (temp file, fsync, rename, fsync of the
        folder); a stale ``sha`` raises SourceConflict. No link is followed on the way."""
        parts = self._parts(path)
        try:
            with path_lock(self.root):  # the SHA check and the rename, as one step for every process
                current = self._current_sha(path)
                if current != sha:
                    raise SourceConflict(f"{path} is at {current or 'nothing'}, not {sha or 'nothing'}")
                dir_fd = self._open_dir("/".join(parts[:-1]), create=True)
                try:
                    replace_at(dir_fd, parts[-1], content)
                finally:
                    os.close(dir_fd)
        except OSError as exc:
            raise self._os_error(path, exc) from None
        return WriteResult(path=path, sha=git_blob_sha(content))

    def delete(self, path: str, *, sha: str, message: str) -> WriteResult:
        parts = self._parts(path)
        try:
            with path_lock(self.root):
                current = self._current_sha(path)
                if current is None:
                    raise SourceNotFound(f"{path} not found in {self.root}")
                if current != sha:
                    raise SourceConflict(f"{path} changed since {sha}")
                dir_fd = self._open_dir("/".join(parts[:-1]))
                try:
                    remove_at(dir_fd, parts[-1])
                finally:
                    os.close(dir_fd)
        except OSError as exc:
            raise self._os_error(path, exc) from None
        return WriteResult(path=path, sha=None)
