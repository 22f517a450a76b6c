"""Settings for the tests that start real processes (gunicorn, django-q workers) with the
tuning constants shorter than production's.

Tuning is not a deployment choice, so production settings read none of these from the
environment (issue #18); a test that starts a process sets ``DJANGO_SETTINGS_MODULE`` to this
module and the values it needs in the process's environment.
"""

from __future__ import annotations

import os

from annoris.settings import *  # noqa: F403
from annoris.settings import CACHES

TUNABLE = (
    "ANNORIS_CACHE_SWEEP_INTERVAL",
    "ANNORIS_WRITE_TIMEOUT",
    "ANNORIS_OUTBOX_BACKOFF",
    "ANNORIS_OUTBOX_MAX_BACKOFF",
    "ANNORIS_OUTBOX_LEASE",
    "ANNORIS_OUTBOX_DRAIN_SECONDS",
    "ANNORIS_OUTBOX_SETTLE_SECONDS",
)
for _name in TUNABLE:
    if _name in os.environ:
        globals()[_name] = float(os.environ[_name])

_OPTIONS = CACHES["default"].get("OPTIONS", {})
for _name, _option in (
    ("REDIS_CONNECT_TIMEOUT", "SOCKET_CONNECT_TIMEOUT"),
    ("REDIS_SOCKET_TIMEOUT", "SOCKET_TIMEOUT"),
):
    if _name in os.environ and _option in _OPTIONS:
        _OPTIONS[_option] = float(os.environ[_name])
