"""The cache layer of the read path: key builders, encrypted rows, and failure as a miss.

What is cached is a session row as a plain dict of its concrete field values, ``content``
still the ciphertext token: Redis never holds plaintext, and a hit costs one GET plus one
AES-GCM decrypt. Beside each row, two small maps (id -> path, path -> id) with a longer
TTL let the read path find a file in the source for ids that are not derivable from
the path (front matter ``id:``) while the database is down.

A cache error is logged (once per outage, by the breaker) and treated as a miss, as in
django-redis ``omit_exception``; while the breaker is open the cache is not called at all,
so a dead Redis costs nothing per request. Invalidations that could not reach the cache
are remembered and replayed once it answers again.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import uuid
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from django.conf import settings
from django.core.cache import BaseCache, caches

from annoris.breaker import CircuitBreaker
from sessions_app.models import Session

logger = logging.getLogger("annoris.readpath.cache")

KEY_PREFIX = "annoris:v1:session"  # bump the version when the cached shape changes
MAP_TTL = 30 * 24 * 3600  # id <-> path maps: tiny, and only wrong after a rename
MISSED_LIMIT = 10_000  # invalidations remembered while the cache is down
MISS: Any = object()  # sentinel: a cached empty value is not a miss

breaker = CircuitBreaker("session cache", cooldown=lambda: settings.ANNORIS_BREAKER_COOLDOWN)
_missed: set[str] = set()
_missed_lock = threading.Lock()
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


def _cache() -> BaseCache:
    return caches[settings.ANNORIS_SESSION_CACHE]


def _call(op: Callable[[BaseCache], T], default: T) -> T:
    """Run ``op`` on the cache through the breaker; ``default`` when disabled, open or failing."""
    if not enabled() or not breaker.allow():
        return default
    try:
        result = op(_cache())
    except Exception as exc:  # any client error means "no cache now", never a failed read
        breaker.record_failure(exc)
        return default
    breaker.record_success()
    if _missed:
        _replay_missed()
    return result


def ping() -> bool:
    """Does the cache answer now? (False while its breaker is open: no call is made.)"""
    return _call(lambda c: _true(c.get(f"{KEY_PREFIX}-health")), False)


# -- rows ----------------------------------------------------------------------------


def row_data(row: Session) -> dict[str, Any]:
    """The row as cached: concrete field values (ciphertext content) plus the project name."""
    data = {f.attname: getattr(row, f.attname) for f in Session._meta.concrete_fields}
    project = row.project if row.project_id and Session.project.is_cached(row) else None
    data["_project_name"] = project.name if project is not None else None
    return data


def row_from_data(data: dict[str, Any]) -> Session:
    """Rebuild an unsaved-looking but complete Session (project primed, so no query)."""
    from projects_app.models import Project

    values = dict(data)
    project_name = values.pop("_project_name", None)
    row = Session(**values)
    row._state.adding, row._state.db = False, "default"
    if row.project_id is not None and project_name is not None:
        row.project = Project(id=row.project_id, name=project_name)
    return row


def get_row(session_id: uuid.UUID) -> Session | None:
    """The cached row, or None for a miss (absent, unreadable, or the cache down)."""
    data = _call(lambda c: c.get(row_key(session_id), MISS), MISS)
    if data is MISS or not isinstance(data, dict):
        return None
    try:
        return row_from_data(data)
    except (TypeError, ValueError):  # a shape from another version: a miss
        return None


def add_row(row: Session) -> None:
    """Write back after a read; ``add`` so an older read never overwrites a sync's refresh."""
    data = row_data(row)
    _call(lambda c: c.add(row_key(row.id), data, settings.ANNORIS_CACHE_TTL), None)
    remember_path(row.id, row.github_path)


def set_rows(rows: Iterable[Session]) -> None:
    """Refresh after a committed write: these rows are the truth, overwrite whatever is cached."""
    rows = list(rows)
    if not rows or not enabled():
        return
    data = {row_key(r.id): row_data(r) for r in rows}
    if not _call(lambda c: _true(c.set_many(data, settings.ANNORIS_CACHE_TTL)), False):
        _remember_missed(list(data))
    maps = {path_of_key(r.id): r.github_path for r in rows} | {
        id_at_key(r.github_path): str(r.id) for r in rows
    }
    _call(lambda c: c.set_many(maps, MAP_TTL), None)


def drop(session_ids: Iterable[uuid.UUID | str]) -> None:
    """Delete rows from the cache; keys the cache could not be told about are replayed later."""
    keys = [row_key(i) for i in session_ids]
    if keys and enabled() and not _call(lambda c: _true(c.delete_many(keys)), False):
        _remember_missed(keys)


def _true(_: object) -> bool:
    return True


# -- id <-> path maps -------------------------------------------------------------------


def remember_path(session_id: uuid.UUID, path: str) -> None:
    maps = {path_of_key(session_id): path, id_at_key(path): str(session_id)}
    _call(lambda c: c.set_many(maps, MAP_TTL), None)


def path_of(session_id: uuid.UUID) -> str | None:
    return _call(lambda c: c.get(path_of_key(session_id)), None)


def id_at(path: str) -> uuid.UUID | None:
    value = _call(lambda c: c.get(id_at_key(path)), None)
    return uuid.UUID(value) if value else None


# -- invalidations missed while the cache was down --------------------------------------------


def _remember_missed(keys: list[str]) -> None:
    with _missed_lock:
        if len(_missed) + len(keys) > MISSED_LIMIT:
            logger.error("cache invalidations lost: more than %d pending; entries may be stale", MISSED_LIMIT)
            return
        _missed.update(keys)


def _replay_missed() -> None:
    """Delete the keys whose refresh failed while the cache was down (the next success does it)."""
    with _missed_lock:
        keys = list(_missed)
        _missed.clear()
    try:
        _cache().delete_many(keys)
    except Exception:  # still failing: keep them for the next success
        with _missed_lock:
            _missed.update(keys)
        return
    logger.info("replayed %d cache invalidation(s) missed while the cache was down", len(keys))


def reset() -> None:
    """Forget breaker state and missed invalidations (tests)."""
    breaker.reset()
    with _missed_lock:
        _missed.clear()


# -- API tokens, remembered so the API can authenticate while the database is down -------------

TOKEN_KEY_PREFIX = "annoris:v1:apitoken"


def remember_token_holder(digest: str, holder: dict[str, Any], ttl: int) -> None:
    _call(lambda c: c.set(f"{TOKEN_KEY_PREFIX}:{digest}", holder, ttl), None)


def token_holder(digest: str) -> dict[str, Any] | None:
    return _call(lambda c: c.get(f"{TOKEN_KEY_PREFIX}:{digest}"), None)
