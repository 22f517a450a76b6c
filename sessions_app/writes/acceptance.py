"""One write at a time per session and per path, so checks and acceptance cannot interleave.

While GitHub is down, a write's If-Match is checked against the outbox, not against GitHub.
Twenty concurrent PUTs with one If-Match each read "no entry queued yet", passed, and two
were accepted (202); one of them later stopped as a conflict that blocked the path. The same
gap let ten creates of one path, or of one front matter ``id:`` at ten paths, be accepted
twice (issue #20, findings 3 and 7).

``held(...)`` serialises the writes that name the same session id or path, from the first
check to the write's acceptance (a commit at the source, or an outbox entry): the second
writer reads the first one's result and gets its 412 or 409 at once. On PostgreSQL the
lock is a session advisory lock on the request's own connection (released in ``finally``,
and by the server if the process dies); on SQLite a lock of the process (one web process
writes an SQLite file). A writer that cannot take the lock within ``LOCK_WAIT`` seconds
(another write of that session is stuck on a hanging GitHub) is told to retry: 409.
"""

from __future__ import annotations

import functools
import threading
import time
import uuid
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from django.conf import settings
from django.db import DatabaseError, connection

from sessions_app.models import PendingWrite
from sessions_app.writes.errors import PathExists, WriteError

_PG_CLASS = 0x7772_6974  # "writ": the advisory lock class of session writes
_local_locks: dict[int, threading.Lock] = {}
_local_guard = threading.Lock()
T = TypeVar("T")


class WriteInProgress(WriteError):
    """Another write of this session or path is still being accepted: 409, retry shortly."""

    status_code = 409
    code = "write_in_progress"
    retry_after = 1


def lock_wait() -> float:
    """How long a writer waits for another write of the same session: what that one may take."""
    return 2 * settings.ANNORIS_WRITE_TIMEOUT + 1.0


@contextmanager
def held(*, session_id: uuid.UUID, path: str | None = None) -> Iterator[None]:
    """Hold the write locks of ``session_id`` (and ``path``) for the block; WriteInProgress if
    they stay taken longer than ``lock_wait()``."""
    keys = sorted({_key(f"id:{session_id}"), *([_key(f"path:{path}")] if path else [])})
    deadline = time.monotonic() + lock_wait()
    while not _try_all(keys):
        if time.monotonic() > deadline:
            raise WriteInProgress("Another write to this session is being accepted; retry shortly.")
        time.sleep(0.02)
    try:
        yield
    finally:
        _release_all(keys)


def one_at_a_time(write: Callable[..., T]) -> Callable[..., T]:
    """Run an update or delete of ``session_id`` (keyword) under ``held``."""

    @functools.wraps(write)
    def serialised(*, session_id: uuid.UUID, **kwargs: Any) -> T:
        with held(session_id=session_id):
            return write(session_id=session_id, **kwargs)

    return serialised


def refuse_queued_id(session_id: uuid.UUID) -> None:
    """PathExists when a queued create (outbox) already carries this session id."""
    queued = PendingWrite.objects.filter(
        session_id=session_id,
        operation=PendingWrite.Operation.CREATE,
        status__in=(PendingWrite.Status.PENDING, PendingWrite.Status.CONFLICT),
    )
    if queued.exists():
        raise PathExists(f"The front matter id {session_id} belongs to a queued write (outbox).")


def _key(name: str) -> int:
    return zlib.crc32(name.encode("utf-8", "surrogatepass")) & 0x7FFFFFFF


def _try_all(keys: list[int]) -> bool:
    """Take every lock or none (no deadlock between writers naming the same two keys)."""
    taken: list[int] = []
    for key in keys:
        if not _try_one(key):
            _release_all(taken)
            return False
        taken.append(key)
    return True


def _try_one(key: int) -> bool:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [_PG_CLASS, key])
            return bool(cursor.fetchone()[0])
    with _local_guard:
        lock = _local_locks.setdefault(key, threading.Lock())
    return lock.acquire(blocking=False)


def _release_all(keys: list[int]) -> None:
    if connection.vendor != "postgresql":
        for key in keys:
            _local_locks[key].release()
        return
    try:
        with connection.cursor() as cursor:
            for key in reversed(keys):
                cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [_PG_CLASS, key])
    except DatabaseError:
        # The connection is broken or its transaction failed: close it, which ends the
        # session and its locks, rather than let a reused connection keep them.
        connection.close()
