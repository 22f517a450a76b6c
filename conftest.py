"""Project-wide pytest fixtures: sample sessions, sources and keyrings.

Tests run against whatever DATABASE_URL / REDIS_URL point at (SQLite and no
cache by default; PostgreSQL and Redis in the second CI pass).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.core.cache import caches

from annoris import crypto
from annoris.sources.local import LocalSource

SAMPLES = Path(__file__).resolve().parent / "samples" / "sessions"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests marked ``postgres`` skip unless DATABASE_URL is PostgreSQL (see ``make test``)."""
    if not settings.configured or settings.DATABASES["default"]["ENGINE"].endswith("postgresql"):
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL: set DATABASE_URL, or run `make test TEST_SERVICES=on`")
    for item in items:
        if item.get_closest_marker("postgres"):
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def _clean_cache() -> Iterator[None]:
    """Each test starts with an empty cache layer (a real Redis when REDIS_URL is set).

    Tests of Django-free modules may run without Django (``-p no:django``): then
    settings are not configured and there is no cache to clean.
    """
    if settings.configured and settings.ANNORIS_SESSION_CACHE:
        caches[settings.ANNORIS_SESSION_CACHE].clear()
    yield


@pytest.fixture(autouse=True)
def _fresh_api_memory() -> Iterator[None]:
    """No token remembered and no throttle counted from another test (process-local state)."""
    if settings.configured:
        from annoris.api import auth_failures, throttling, tokens

        tokens.reset()
        throttling.buckets.clear()
        auth_failures.failures.clear()
    yield


@pytest.fixture
def sample_dir(tmp_path: Path) -> Path:
    """A private copy of the shipped sample sessions that a test may change."""
    target = tmp_path / "sessions"
    shutil.copytree(SAMPLES, target)
    return target


@pytest.fixture
def local_source(sample_dir: Path) -> LocalSource:
    return LocalSource(sample_dir, repository="acme/sessions")


@pytest.fixture
def new_keyring() -> crypto.Keyring:
    """A keyring whose primary key is new and which still holds the current keys."""
    entries = [crypto.generate_key("k-new")]
    entries += [f"{key_id}:{_b64(key)}" for key_id, key in settings.ANNORIS_KEYRING.keys]
    return crypto.parse_keyring(",".join(entries))


def _b64(key: bytes) -> str:
    import base64

    return base64.urlsafe_b64encode(key).decode()
