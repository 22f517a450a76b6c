from __future__ import annotations

import pytest

from annoris.sources.local import LocalSource
from sessions_app.models import Session
from sync_app.engine import run_sync


@pytest.fixture
def synced(db: None, local_source: LocalSource) -> list[Session]:
    """The sample sessions, synced into the database."""
    run_sync(source=local_source)
    return list(Session.objects.all())
