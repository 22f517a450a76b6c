from __future__ import annotations

from sessions_app.tests.conftest import synced  # noqa: F401 - the synced samples fixture
