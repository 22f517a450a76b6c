"""Crash-safe file replacement for LocalSource writes.

``replace_at`` writes a temporary file in the target's directory, fsyncs it, renames it
over the target (atomic on POSIX) and fsyncs the directory, so a reader or a crash sees
the old file or the new one, never a torn one. ``path_lock`` serialises the
check-then-write of writers in every process (an ``flock`` on a file beside the tree).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import secrets
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


def replace_at(dir_fd: int, name: str, data: bytes) -> None:
    """Make ``name`` in the folder ``dir_fd`` hold ``data`` atomically and durably: a temporary
    file beside it, fsync, rename over it (atomic on POSIX), fsync of the folder. Nothing is
    reached through a link: the folder is a descriptor and the names are plain entries."""
    tmp = f".{name}.{secrets.token_hex(8)}.tmp"
    fd = os.open(
        tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644, dir_fd=dir_fd
    )
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.rename(tmp, name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp, dir_fd=dir_fd)
        raise
    os.fsync(dir_fd)


def remove_at(dir_fd: int, name: str) -> None:
    """Unlink ``name`` in the folder ``dir_fd`` and make the removal durable."""
    os.unlink(name, dir_fd=dir_fd)
    os.fsync(dir_fd)
