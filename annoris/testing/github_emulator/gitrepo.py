"""A real git repository on disk, read and written through the ``git`` CLI.

The emulator serves real commit, tree and blob SHAs, so the client and the sync
engine are tested against the same ids GitHub would send. Reads go through one
long-lived ``git cat-file --batch`` process (spawning git per blob would make a
10,000-file sync crawl); objects are cached by SHA because they are immutable.
Writes use ``git fast-import``, which builds a 10,000-file commit in seconds.
"""

from __future__ import annotations

import os
import re
import subprocess
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

SHA_RE = re.compile(r"^[0-9a-f]{40}$")
_CACHE_BYTES = 64 * 1024 * 1024  # objects kept in memory before the cache is dropped


@dataclass(frozen=True)
class LsEntry:
    """One line of ``git ls-tree -l``: mode as GitHub shows it (``040000`` for trees)."""

    mode: str
    type: str
    sha: str
    size: int | None
    path: str


@dataclass(frozen=True)
class Person:
    name: str
    email: str
    date: str  # ISO 8601, UTC, like GitHub


@dataclass(frozen=True)
class CommitInfo:
    sha: str
    tree: str
    parents: tuple[str, ...]
    author: Person
    committer: Person
    message: str


class GitRepo:
    """A git repository (created bare when ``path`` holds none) with one tracked branch."""

    def __init__(self, path: Path, *, branch: str = "main") -> None:
        self.path = Path(path)
        self.branch = branch
        self._env = {
            **os.environ,
            "GIT_AUTHOR_NAME": "Annoris Emulator",
            "GIT_AUTHOR_EMAIL": "emulator@annoris.invalid",
            "GIT_COMMITTER_NAME": "Annoris Emulator",
            "GIT_COMMITTER_EMAIL": "emulator@annoris.invalid",
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_TERMINAL_PROMPT": "0",
        }
        # Re-entrant so the contents API can check a SHA and commit under one hold.
        self.write_lock = threading.RLock()
        self._cat_lock = threading.Lock()
        self._cat: subprocess.Popen[bytes] | None = None
        self._objects: dict[str, tuple[str, bytes]] = {}
        self._cached_bytes = 0
        self._trees: dict[tuple[str, bool], list[LsEntry]] = {}
        self._indexes: dict[str, dict[str, LsEntry]] = {}
        if not (self.path / "HEAD").exists() and not (self.path / ".git").exists():
            self.path.mkdir(parents=True, exist_ok=True)
            self._git("init", "-q", "--bare", "-b", branch)

    # -- plumbing -------------------------------------------------------------

    def _git(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[bytes]:
        return subprocess.run(
            ["git", "-C", str(self.path), *args], capture_output=True, check=check, env=self._env
        )

    def close(self) -> None:
        """Stop the ``cat-file`` helper process."""
        with self._cat_lock:
            if self._cat is not None:
                self._cat.stdin.close()  # type: ignore[union-attr]
                self._cat.wait(timeout=5)
                self._cat = None

    def resolve(self, rev: str) -> str | None:
        """The commit SHA ``rev`` (branch, tag or SHA) points at, or None."""
        if not rev or rev.startswith("-") or "\n" in rev:
            return None  # never let a URL segment become a git option
        result = self._git("rev-parse", "--verify", "-q", f"{rev}^{{commit}}", check=False)
        if result.returncode != 0:
            return None
        return result.stdout.decode().strip() or None

    def head(self) -> str | None:
        """The commit SHA at the tip of the tracked branch (None before the first commit)."""
        return self.resolve(f"refs/heads/{self.branch}")

    def read_object(self, sha: str) -> tuple[str, bytes] | None:
        """(type, raw bytes) of an object, or None when it does not exist."""
        if not SHA_RE.match(sha):
            return None
        cached = self._objects.get(sha)
        if cached is not None:
            return cached
        with self._cat_lock:
            found = self._cat_file(sha)
        if found is not None:
            if self._cached_bytes > _CACHE_BYTES:
                self._objects.clear()
                self._cached_bytes = 0
            self._objects[sha] = found
            self._cached_bytes += len(found[1])
        return found

    def _cat_file(self, sha: str) -> tuple[str, bytes] | None:
        if self._cat is None:
            self._cat = subprocess.Popen(
                ["git", "-C", str(self.path), "cat-file", "--batch"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                env=self._env,
            )
        stdin, stdout = self._cat.stdin, self._cat.stdout
        assert stdin is not None and stdout is not None
        stdin.write(sha.encode() + b"\n")
        stdin.flush()
        header = stdout.readline().split()
        if len(header) != 3:  # "<sha> missing"
            return None
        data = stdout.read(int(header[2]))
        stdout.read(1)  # the newline after the content
        return header[1].decode(), data

    # -- trees and commits ----------------------------------------------------

    def ls_tree(self, tree: str, *, recursive: bool) -> list[LsEntry] | None:
        """Entries of a tree (recursive includes sub-tree entries, like GitHub), or None."""
        key = (tree, recursive)
        if key in self._trees:
            return self._trees[key]
        if not SHA_RE.match(tree):
            return None
        args = ["ls-tree", "-z", "-l", *(["-r", "-t"] if recursive else []), tree]
        result = self._git(*args, check=False)
        if result.returncode != 0:
            return None
        entries = [_parse_ls_line(line) for line in result.stdout.split(b"\0") if line]
        self._trees[key] = entries
        return entries

    def path_index(self, tree: str) -> dict[str, LsEntry]:
        """Every path (files and directories) of a root tree, for contents lookups."""
        if tree not in self._indexes:
            self._indexes[tree] = {e.path: e for e in self.ls_tree(tree, recursive=True) or []}
        return self._indexes[tree]

    def commit_info(self, sha: str) -> CommitInfo | None:
        """The parsed commit object ``sha``, or None."""
        found = self.read_object(sha)
        if found is None or found[0] != "commit":
            return None
        head, _, message = found[1].decode("utf-8", "replace").partition("\n\n")
        fields: dict[str, list[str]] = {}
        for line in head.splitlines():
            key, _, value = line.partition(" ")
            fields.setdefault(key, []).append(value)
        return CommitInfo(
            sha=sha,
            tree=fields["tree"][0],
            parents=tuple(fields.get("parent", [])),
            author=_person(fields["author"][0]),
            committer=_person(fields["committer"][0]),
            message=message,
        )

    def log(
        self, rev: str, *, path: str | None = None, since: str | None = None, limit: int = 30
    ) -> list[str]:
        """Commit SHAs reachable from ``rev`` (touching ``path``, after ``since``), newest first."""
        if not rev or rev.startswith("-") or (path or "").startswith("-"):
            return []
        args = ["log", "--format=%H", f"-n{max(1, limit)}"]
        if since:
            args.append(f"--since={since}")
        args += [rev, "--", path] if path else [rev]
        result = self._git(*args, check=False)
        return result.stdout.decode().split() if result.returncode == 0 else []

    # -- writes -----------------------------------------------------------------

    def commit_files(self, files: Mapping[str, bytes | None], *, message: str) -> str:
        """Commit ``files`` (None deletes) on the branch in one commit; returns its SHA."""
        with self.write_lock:
            parent = self.head()
            proc = subprocess.Popen(
                ["git", "-C", str(self.path), "fast-import", "--quiet", "--done"],
                stdin=subprocess.PIPE,
                stderr=subprocess.PIPE,
                env=self._env,
            )
            assert proc.stdin is not None
            msg = message.encode()
            proc.stdin.write(b"commit refs/heads/%s\n" % self.branch.encode())
            proc.stdin.write(
                b"committer Annoris Emulator <emulator@annoris.invalid> %d +0000\n" % time.time()
            )
            proc.stdin.write(b"data %d\n%s\n" % (len(msg), msg))
            if parent:
                proc.stdin.write(b"from %s\n" % parent.encode())
            for path, data in files.items():
                if data is None:
                    proc.stdin.write(b"D %s\n" % _quote(path))
                else:
                    proc.stdin.write(b"M 100644 inline %s\ndata %d\n" % (_quote(path), len(data)))
                    proc.stdin.write(data + b"\n")
            proc.stdin.write(b"\ndone\n")
            proc.stdin.close()
            if proc.wait() != 0:
                raise RuntimeError(f"git fast-import failed: {proc.stderr.read().decode()}")  # type: ignore[union-attr]
            head = self.head()
            assert head is not None
            return head

    def archive(self, sha: str, *, prefix: str) -> Iterator[bytes]:
        """Stream ``git archive --format=tar.gz`` of commit ``sha`` in chunks."""
        proc = subprocess.Popen(
            ["git", "-C", str(self.path), "archive", "--format=tar.gz", f"--prefix={prefix}", sha],
            stdout=subprocess.PIPE,
            env=self._env,
        )
        assert proc.stdout is not None
        try:
            while chunk := proc.stdout.read(64 * 1024):
                yield chunk
        finally:
            proc.stdout.close()
            proc.kill()
            proc.wait()


def _parse_ls_line(line: bytes) -> LsEntry:
    meta, _, path = line.partition(b"\t")
    mode, kind, sha, size = meta.split()
    return LsEntry(
        mode=mode.decode().rjust(6, "0"),
        type=kind.decode(),
        sha=sha.decode(),
        size=None if size == b"-" else int(size),
        path=path.decode("utf-8", "surrogateescape"),
    )


def _person(value: str) -> Person:
    """Parse ``Name <email> 1700000000 +0000`` into a Person with an ISO date."""
    name, _, rest = value.partition(" <")
    email, _, stamp = rest.partition("> ")
    seconds = int(stamp.split()[0])
    return Person(name=name, email=email, date=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(seconds)))


def _quote(path: str) -> bytes:
    """C-style quote a path for fast-import, so spaces, quotes and UTF-8 survive."""
    escaped = path.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return b'"' + escaped.encode() + b'"'
