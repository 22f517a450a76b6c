from __future__ import annotations

import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from annoris.sources.local import LocalSource
    from sessions_app.models import Session


@pytest.fixture
def synced(db: None, local_source: LocalSource) -> list[Session]:
    """The sample sessions, synced into the database."""
    # Imported here so the Django-free parser tests can run with `-p no:django`.
    from sessions_app.models import Session
    from sync_app.engine import run_sync

    run_sync(source=local_source)
    return list(Session.objects.all())


@pytest.fixture(autouse=True)
def _fresh_read_path() -> Iterator[None]:
    """Breakers closed, no queued write-backs, no remembered source: before and after each test."""
    yield from _reset_read_path()


def _reset_read_path() -> Iterator[None]:
    _forget_read_path_state()
    yield
    _forget_read_path_state()


def _forget_read_path_state() -> None:
    # Only when the read path was imported: the Django-free tests never load it.
    if (readpath := sys.modules.get("sessions_app.readpath")) is not None:
        readpath.reset()


@pytest.fixture
def session_cache(settings: Any) -> Any:
    """The cache layer switched on: Redis when REDIS_URL is set, else the in-process locmem cache."""
    from django.core.cache import caches

    settings.ANNORIS_SESSION_CACHE = settings.ANNORIS_SESSION_CACHE or "default"
    cache = caches[settings.ANNORIS_SESSION_CACHE]
    cache.clear()
    return cache
