from __future__ import annotations

from typing import TYPE_CHECKING

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
