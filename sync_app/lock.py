"""The one-sync-at-a-time lock, held by something that dies with the process holding it.

A row in a table ("running since ...") outlives a process killed with SIGKILL, and then
needs a timeout to be taken over; that timeout wedged every sync for 30 minutes. These
locks need none:

* PostgreSQL: a session advisory lock (``pg_try_advisory_lock``) taken on a connection
  of the sync's own, opened for it and closed with it. When the process dies, the kernel
  closes its socket, the server ends the session and the lock is gone.
* SQLite: an exclusive ``flock`` on a file next to the database file. The kernel drops it
  when the process dies. An in-memory database (the test suite's) lives in one process,
  so a lock of the process is enough there.

Two lock names are used: ``sync`` (held by the run) and ``waiter`` (held by the one
trigger that waits for a busy run to end, see ``engine.run_sync``).

The advisory lock needs session-level pooling: behind pgbouncer in transaction mode,
point the sync at the server directly.
"""

from __future__ import annotations

import fcntl
import os
import threading
import zlib
from typing import Any

from django.db import Error, connections

__all__ = ["SyncLock"]

# Advisory lock keys: one class id for Annoris, one object id per lock name.
_PG_CLASS = 0x616E6E6F  # "anno"
_memory_locks: dict[str, threading.Lock] = {}
_memory_guard = threading.Lock()
_LOCK_TYPE = type(_memory_guard)


class SyncLock:
    """A non-blocking, process-bound lock named ``name`` on database ``alias``."""

    def __init__(self, name: str = "sync", *, alias: str = "default") -> None:
        self.name = name
        self.alias = alias
        self._held: Any = None

    @property
    def held(self) -> bool:
        return self._held is not None

    def acquire(self) -> bool:
        """Take the lock if it is free; True when this object now holds it."""
        if self._held is not None:
            return True
        base = connections[self.alias]
        if base.vendor == "postgresql":
            self._held = _pg_acquire(base, self.name)
        else:
            self._held = _file_acquire(base.settings_dict["NAME"], self.name)
        return self._held is not None

    def release(self) -> None:
        """Give the lock back (also given back, by the kernel or the server, if the process dies)."""
        held, self._held = self._held, None
        if held is None:
            return
        if isinstance(held, _LOCK_TYPE):
            held.release()
        elif isinstance(held, int):
            os.close(held)  # closing the descriptor drops the flock
        else:
            _pg_release(held, self.name)

    def __enter__(self) -> SyncLock:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def _pg_acquire(base: Any, name: str) -> Any:
    """A new connection holding the advisory lock ``name``, or None if another session holds it."""
    wrapper = type(base)(dict(base.settings_dict), base.alias)
    try:
        with wrapper.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [_PG_CLASS, _pg_key(name)])
            (got,) = cursor.fetchone()
    except BaseException:
        wrapper.close()
        raise
    if not got:
        wrapper.close()
        return None
    return wrapper


def _pg_release(wrapper: Any, name: str) -> None:
    """Unlock, then close the connection. Closing alone frees the lock only once the server has
    ended the session, a moment later: a run that released the lock and at once took it again
    for a trigger that came meanwhile could find it still held, and that follow-up waited for the
    next run (a flaky test on PostgreSQL under load)."""
    try:
        with wrapper.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [_PG_CLASS, _pg_key(name)])
    except Error:  # a connection already broken or closed: its session's end frees the lock
        pass
    finally:
        wrapper.close()


def _pg_key(name: str) -> int:
    return zlib.crc32(name.encode()) & 0x7FFFFFFF


def _file_acquire(database: Any, name: str) -> Any:
    """The flock'ed descriptor of ``<database>.<name>.lock``, or None while another holds it."""
    database = str(database)
    if database == ":memory:" or "mode=memory" in database:
        with _memory_guard:
            lock = _memory_locks.setdefault(f"{database}:{name}", threading.Lock())
        return lock if lock.acquire(blocking=False) else None
    fd = os.open(f"{database}.{name}.lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    except BaseException:
        os.close(fd)
        raise
    return fd
