"""How many live sessions wait to be indexed: the ``incomplete`` flag of answers and /health's lag."""

from __future__ import annotations

import time

from django.conf import settings

from annoris.state import Clock, per_process
from sessions_app.models import Session

__all__ = ["forget", "index_waiting"]

WAITING_TTL = 1.0  # seconds a process reuses the count: two counts per search would cost ~10 ms at 100k


class _Counts(dict):
    """with vectors? -> (count, valid until (monotonic)); per-process state."""

    def reset(self, clock: Clock | None = None) -> None:
        self.clear()


_waiting: dict[bool, tuple[int, float]] = per_process(_Counts())


def index_waiting(*, vectors: bool = False) -> int:
    """Live sessions not (yet) indexed under the current key: after a bulk import, before the
    worker's ``index_search`` task has run, and after a key rotation until ``rotate_keys`` ends.
    With ``vectors``, sessions whose sentence vector is not stored yet count too."""
    now = time.monotonic()
    count, until = _waiting.get(vectors, (0, 0.0))
    if until <= now:
        key_id = settings.ANNORIS_KEYRING.keys[0][0]  # the key the index is hashed under
        live = Session.objects.live()
        count = live.exclude(search_document__key_id=key_id).count()
        if vectors:
            count = max(count, live.exclude(search_vector__key_id=key_id).count())
        _waiting[vectors] = (count, now + WAITING_TTL)
    return count


def forget() -> None:
    """Drop the remembered counts (indexing calls it, so its own process sees the change at once)."""
    _waiting.clear()
