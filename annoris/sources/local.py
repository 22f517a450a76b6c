"""LocalSource: session files in a directory on disk (the embedded default)."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from pathlib import Path

from annoris.sources.atomic import path_lock, remove_file, replace_file
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


class LocalSource:
    """A directory tree; blob SHAs are computed exactly as ``git hash-object`` does.

    Like git's index, a stat cache in ``state`` (path -> size, mtime, SHA) lets a
    listing skip hashing files that have not changed, so a sync with nothing
    changed opens no file. ``reads`` counts the files opened, for tests.
    """

    def __init__(
        self,
        root: str | Path,
        *,
        glob: str = "**/*.md",
        repository: str = "local",
        state: dict | None = None,
    ) -> None:
        self.root = Path(root).resolve()
        self.glob = glob
        self.repository = repository
        self.state: dict = state if state is not None else {}
        self.reads = 0

    def list_files(self) -> Listing:
        if not self.root.is_dir():
            raise SourceNotFound(f"sessions directory {self.root} does not exist")
        old = self.state.get("stat", {})
        stat_cache: dict[str, list] = {}
        files = []
        for full in self._walk():
            rel = full.relative_to(self.root).as_posix()
            info = full.stat()
            key = [info.st_size, info.st_mtime_ns]
            cached = old.get(rel)
            sha = cached[2] if cached and cached[:2] == key else git_blob_sha(self._open(full))
            stat_cache[rel] = [*key, sha]
            files.append(SourceFile(path=rel, sha=sha, size=info.st_size))
        self.state["stat"] = stat_cache
        return Listing(files=tuple(files), not_modified=stat_cache == old)

    def _walk(self) -> Iterator[Path]:
        for dirpath, dirnames, filenames in os.walk(self.root):
            dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
            for name in sorted(filenames):
                full = Path(dirpath, name)
                if full.is_file() and matches_glob(full.relative_to(self.root).as_posix(), self.glob):
                    yield full

    def _open(self, full: Path) -> bytes:
        self.reads += 1
        return full.read_bytes()

    def _resolve(self, path: str) -> Path:
        full = (self.root / path).resolve()
        if self.root not in full.parents:
            raise SourceNotFound(f"{path} is outside the sessions directory")
        return full

    def read(self, path: str) -> bytes:
        full = self._resolve(path)
        if not full.is_file():
            raise SourceNotFound(f"{path} not found in {self.root}")
        return self._open(full)

    def read_many(self, files: Iterable[SourceFile]) -> Iterator[tuple[SourceFile, bytes | SourceError]]:
        for item in files:
            try:
                yield item, self.read(item.path)
            except SourceError as exc:
                yield item, exc
            except OSError as exc:
                yield item, SourceError(f"{item.path}: {exc.strerror or exc}")

    def write(self, path: str, content: bytes, *, sha: str | None, message: str) -> WriteResult:
        """Create (sha=None) or replace a file atomically; a stale ``sha`` raises SourceConflict."""
        full = self._resolve(path)
        with path_lock(self.root):  # the SHA check and the rename, as one step for every process
            current = git_blob_sha(full.read_bytes()) if full.is_file() else None
            if current != sha:
                raise SourceConflict(f"{path} is at {current or 'nothing'}, not {sha or 'nothing'}")
            replace_file(full, content)
        return WriteResult(path=path, sha=git_blob_sha(content))

    def delete(self, path: str, *, sha: str, message: str) -> WriteResult:
        full = self._resolve(path)
        with path_lock(self.root):
            if not full.is_file():
                raise SourceNotFound(f"{path} not found in {self.root}")
            if git_blob_sha(full.read_bytes()) != sha:
                raise SourceConflict(f"{path} changed since {sha}")
            remove_file(full)
        return WriteResult(path=path, sha=None)
