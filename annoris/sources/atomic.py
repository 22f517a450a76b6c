"""Crash-safe file replacement for LocalSource writes.

``replace_file`` writes a temporary file in the target's directory, fsyncs it, renames it
over the target (atomic on POSIX) and fsyncs the directory, so a reader or a crash sees
the old file or the new one, never a torn one. ``path_lock`` serialises the
check-then-write of writers in every process (an ``flock`` on a file beside the tree).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def path_lock(root: Path) -> Iterator[None]:
    """An exclusive lock over writes below ``root``, held across processes."""
    lock_file = root / ".annoris-write.lock"
    fd = os.open(lock_file, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def replace_file(target: Path, data: bytes) -> None:
    """Make ``target`` hold ``data`` atomically and durably (temp file, fsync, rename, fsync dir)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    fsync_dir(target.parent)


def remove_file(target: Path) -> None:
    """Unlink ``target`` and make the removal durable."""
    target.unlink()
    fsync_dir(target.parent)


def fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
