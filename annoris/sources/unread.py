"""Files the local source lists without reading them: what kind of file each is, and the
stand-in id such a file is listed under (a FIFO, a socket, a device, a link, a file too large
or one that cannot be opened)."""

from __future__ import annotations

import hashlib
import os
import stat

_KINDS = {
    stat.S_IFIFO: "a FIFO (named pipe)",
    stat.S_IFSOCK: "a socket",
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
    stat.S_IFLNK: "a symbolic link (links are not followed)",
    stat.S_IFDIR: "a folder",
}


def file_kind(mode: int) -> str:
    """What a file of ``mode`` is, in words for the skipped-file reason."""
    return _KINDS.get(stat.S_IFMT(mode), "not a regular file")


def stand_in_sha(reason: str, info: os.stat_result) -> str:
    """A 40-hex id for a file listed without being read (too large, unreadable).

    It is not a git blob SHA: it changes when the file's size or mtime does, so a
    failure recorded against it is retried once the file changes.
    """
    seed = f"annoris-unread {reason} {info.st_size} {info.st_mtime_ns} {info.st_ino}"
    return hashlib.sha1(seed.encode()).hexdigest()  # noqa: S324 - an id, not security
