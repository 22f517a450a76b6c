"""django-q2 task: purge expired grants, codes and tokens (scheduled by ``schedules``)."""

from __future__ import annotations

from annoris.oauth.connections import purge_expired


def purge_oauth() -> int:
    return purge_expired()
