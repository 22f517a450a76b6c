"""The cache layer: encrypted rows in Redis through Django's cache API, as ``cached_db`` does.

A hit is one ``cache.get`` and a fresh row for every reader (the row's values, ``content`` the
ciphertext, and its project's). Two small maps (id <-> path) find front matter ids while the
database is down. A cache error is a miss; the writes it missed are ``invalidation``'s."""

from __future__ import annotations

import functools
import hashlib
import logging
import pickle
import uuid
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from django.conf import settings
from django.core.cache import BaseCache, caches
from django.db import DEFAULT_DB_ALIAS

from sessions_app.models import Session
from sessions_app.readpath import rendered
from sessions_app.readpath.rowquery import attnames, build
from sessions_app.readpath.state import STATE

logger = logging.getLogger("annoris.readpath.cache")

KEY_PREFIX = "annoris:v2:session"  # bump the version when the cached shape changes (v2: whole project)
MAP_TTL = 30 * 24 * 3600  # id <-> path maps: tiny, and only wrong after a rename
MISS: Any = object()  # sentinel: a cached empty value is not a miss
T = TypeVar("T")


def row_key(session_id: uuid.UUID | str) -> str:
    return f"{KEY_PREFIX}:{session_id}"


def path_of_key(session_id: uuid.UUID | str) -> str:
    return f"{KEY_PREFIX}-path:{session_id}"


def id_at_key(path: str) -> str:
    return f"{KEY_PREFIX}-at:{hashlib.sha1(path.encode()).hexdigest()}"  # noqa: S324 - a key, not security


def enabled() -> bool:
    """True when a cache alias is configured (REDIS_URL set): configuration, never code."""
    return bool(settings.ANNORIS_SESSION_CACHE)


def call(op: Callable[[BaseCache], T], default: T) -> T:
    """Run ``op`` on the cache through the breaker; ``default`` when disabled, open or failing."""
    breaker = STATE.cache_breaker
    if not enabled() or not breaker.allow():
        return default
    try:
        result = op(caches[settings.ANNORIS_SESSION_CACHE])
    except Exception as exc:  # any client error means "no cache now", never a failed read
        breaker.record_failure(exc)
        return default
    breaker.record_success()
    return result


def ping() -> bool:
    """Does the cache answer now? (False while its breaker is open: no call is made.)"""
    return call(lambda c: _true(c.get(f"{KEY_PREFIX}-health")), False)


def row_data(row: Session) -> tuple[Any, ...]:
    """The row as cached: the layout's tag, its field values, its project's values (or None)."""
    tag, fields, project_fields = _layout()
    project = row.project if row.project_id and Session.project.is_cached(row) else None
    values = None if project is None else tuple(getattr(project, a) for a in project_fields)
    return (tag, *(getattr(row, a) for a in fields), values)


def row_from_data(data: tuple[Any, ...]) -> Session:
    """A new Session as the database layer builds it; ValueError for a value of another shape."""
    tag, fields, project_fields = _layout()
    if type(data) is not tuple or len(data) != len(fields) + 2 or data[0] != tag:
        raise ValueError("cached row has another shape")
    if data[-1] is not None and len(data[-1]) != len(project_fields):
        raise ValueError("cached project has another shape")
    return build(DEFAULT_DB_ALIAS, data[1:-1], data[-1])  # a project id without values stays lazy


@functools.cache
def _layout() -> tuple[str, tuple[str, ...], tuple[str, ...]]:
    """(tag, session attnames, project attnames): a tuple cached by another layout is a miss."""
    fields, project_fields = attnames()
    return hashlib.sha1(repr((fields, project_fields)).encode()).hexdigest()[:8], fields, project_fields  # noqa: S324


def get_row(session_id: uuid.UUID) -> Session | None:
    """The cached row, a new instance per call; None for a miss (absent, unreadable, cache down)."""
    if not enabled():
        return None
    data = call(lambda c: _get_value(c, row_key(session_id)), MISS)
    if data is MISS:
        return None
    try:
        return row_from_data(data)
    except (TypeError, ValueError):  # a shape from another version: a miss
        return None


# What unpickling bytes another program (or version) wrote can raise: a miss, not an outage.
_UNDECODABLE = (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError, LookupError)


def _get_value(cache: BaseCache, key: str) -> Any:
    try:
        return cache.get(key, MISS)
    except _UNDECODABLE:
        return MISS


def add_row(row: Session) -> None:
    """Write back after a read; ``add`` so an older read never overwrites a sync's refresh."""
    if not enabled():
        return  # do not build the row's dict for nothing (cache layer off)
    data = row_data(row)
    # The row, then its answer (rendered only once the row was added), each only where nothing newer is.
    if call(lambda c: c.add(row_key(row.id), data, settings.ANNORIS_CACHE_TTL), False):
        if (answer := rendered.encode(row)) is not None:
            call(lambda c: c.add(rendered.key(row.id), answer, settings.ANNORIS_CACHE_TTL), None)
    remember_path(row.id, row.github_path)


def set_rows(rows: Iterable[Session]) -> bool:
    """Overwrite the cached copies with these committed rows; False when the cache did not take them."""
    rows = list(rows)
    if not rows or not enabled():
        return True
    data: dict[str, Any] = {row_key(r.id): row_data(r) for r in rows}
    # Each row's answer, or a mark that it has none: a set, not a delete, so that a reader's
    # ``add`` of an older answer (``add_row``) cannot land after this.
    data |= {rendered.key(r.id): rendered.encode(r) or rendered.NO_ANSWER for r in rows}
    if not call(lambda c: _true(c.set_many(data, settings.ANNORIS_CACHE_TTL)), False):
        return False
    maps = {path_of_key(r.id): r.github_path for r in rows} | {
        id_at_key(r.github_path): str(r.id) for r in rows
    }
    call(lambda c: c.set_many(maps, MAP_TTL), None)
    return True


def drop(session_ids: Iterable[uuid.UUID | str]) -> bool:
    """Delete rows from the cache; False when the cache could not be told."""
    keys = [k for i in session_ids for k in (row_key(i), rendered.key(i))]
    if not keys or not enabled():
        return True
    return call(lambda c: _true(c.delete_many(keys)), False)


def _true(_: object) -> bool:
    return True


def get_answer(session_id: uuid.UUID | str) -> rendered.Answer | None:
    """The cached API answer of this session (see ``rendered``), or None for a miss."""
    return rendered.decode(call(lambda c: _get_value(c, rendered.key(session_id)), MISS))


def remember_path(session_id: uuid.UUID, path: str) -> None:
    maps = {path_of_key(session_id): path, id_at_key(path): str(session_id)}
    call(lambda c: c.set_many(maps, MAP_TTL), None)


def path_of(session_id: uuid.UUID) -> str | None:
    return call(lambda c: c.get(path_of_key(session_id)), None)


def id_at(path: str) -> uuid.UUID | None:
    value = call(lambda c: c.get(id_at_key(path)), None)
    return uuid.UUID(value) if value else None
