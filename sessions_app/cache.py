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

Reads of a row take the shortest path django-redis allows (see ``_get``): the cache hit is
held to 1.5x a bare redis-py GET + decrypt (issue #4), so every ~10 µs counts there.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import pickle
import threading
import uuid
import weakref
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

from django.conf import settings
from django.core.cache import BaseCache, caches
from django.db import DEFAULT_DB_ALIAS
from django.db.models import Model

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
_raw_clients: weakref.WeakKeyDictionary[BaseCache, Any] = weakref.WeakKeyDictionary()
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
    """Rebuild a complete Session as loaded from the database (project primed, so no query).

    ``from_db`` with positional values, not ``Session(**data)``: keyword init cost ~10 µs of a
    ~400 µs cache read. A dict with other keys (another version's shape) raises ValueError.
    """
    layout = _layout()
    if data.keys() != layout.keys:
        raise ValueError("cached row has another shape")
    row = Session.from_db(DEFAULT_DB_ALIAS, layout.session, [data[a] for a in layout.session])
    if row.project_id is not None and (name := data["_project_name"]) is not None:
        # Only id and name are cached; the other fields keep their defaults, as Project(id=, name=).
        values = [row.project_id if a == "id" else name if a == "name" else d for a, d in layout.project]
        layout.set_project(row, layout.project_model.from_db(DEFAULT_DB_ALIAS, layout.project_names, values))
    return row  # a project id without a cached name stays lazy: the database is asked on access


@dataclass(frozen=True)
class _Layout:
    keys: frozenset[str]
    session: tuple[str, ...]
    project_model: type[Model]
    project: tuple[tuple[str, Any], ...]  # (attname, default) in concrete field order
    project_names: tuple[str, ...]
    set_project: Callable[[Model, Model | None], None]


@functools.cache
def _layout() -> _Layout:
    """Field orders and defaults, read once (the models do not change in a running process)."""
    fk = Session._meta.get_field("project")
    project_model = fk.related_model
    fields = project_model._meta.concrete_fields
    session = tuple(f.attname for f in Session._meta.concrete_fields)
    return _Layout(
        keys=frozenset((*session, "_project_name")),
        session=session,
        project_model=project_model,
        project=tuple((f.attname, None if f.primary_key else f.get_default()) for f in fields),
        project_names=tuple(f.attname for f in fields),
        set_project=fk.set_cached_value,
    )


def get_row(session_id: uuid.UUID) -> Session | None:
    """The cached row, or None for a miss (absent, unreadable, or the cache down)."""
    data = _call(lambda c: _get(c, row_key(session_id)), MISS)
    if data is MISS or not isinstance(data, dict):
        return None
    try:
        return row_from_data(data)
    except (TypeError, ValueError):  # a shape from another version: a miss
        return None


def _get(c: BaseCache, key: str) -> Any:
    """``c.get(key, MISS)``, through django-redis's own redis client when that gives the same value.

    The hot read path (issue #4): django-redis's ``get`` wrapper (key object, client lookup,
    exception decorator, ``decode`` trying ``int()`` first) cost ~40-60 µs of a ~400 µs read.
    With the default client, pickle serializer and no compressor a stored dict is exactly a
    pickle, so one GET on the raw client plus ``pickle.loads`` reads the same value. Any other
    configuration (herd or shard client, compression, JSON) goes through ``c.get``. Client
    errors still raise (the breaker counts them); a value that does not unpickle is a miss.
    """
    client = _raw_client(c)
    if client is None:
        return c.get(key, MISS)
    raw = client.get_client(write=False).get(client.make_key(key))
    if raw is None:
        return MISS
    try:
        return pickle.loads(raw)  # noqa: S301 - what django-redis itself does with a cached value
    except Exception:  # written by something else: not a row
        return MISS


def _raw_client(c: BaseCache) -> Any:
    """django-redis's DefaultClient when its values are plain pickles, else None (memoized)."""
    try:
        return _raw_clients[c]
    except KeyError:
        pass
    client = None
    try:
        from django_redis.client import DefaultClient
        from django_redis.compressors.identity import IdentityCompressor
        from django_redis.serializers.pickle import PickleSerializer
    except ImportError:  # no django-redis: whatever the cache is, use its API
        DefaultClient = None  # noqa: N806
    if DefaultClient is not None and type(getattr(c, "client", None)) is DefaultClient:
        codec = (type(c.client._serializer), type(c.client._compressor))
        client = c.client if codec == (PickleSerializer, IdentityCompressor) else None
    _raw_clients[c] = client
    return client


def add_row(row: Session) -> None:
    """Write back after a read; ``add`` so an older read never overwrites a sync's refresh."""
    if not enabled():
        return  # do not build the row's dict for nothing (cache layer off)
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
