"""``manage.py worker``: django-q2's ``qcluster``, stopped cleanly by a signal to the whole group.

honcho (``make run``) and container platforms stop a process by sending SIGTERM to its whole
process group. django-q2's sentinel process resets SIGTERM to its default, so it dies at once,
while the cluster's main process, handling the same signal, sets the stop event the dead sentinel
was waiting on: ``multiprocessing.Event.set()`` then waits forever for a sleeper that will never
wake, and honcho SIGKILLs the worker 5 s later. Run in a process group of its own, the cluster
gets the signal only through this command, in its main process, and stops as django-q2 intends
(the workers finish their task, the sentinel exits, then the main process).
"""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path
from types import FrameType
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = (
        "Run the task worker (django-q2's qcluster: queued syncs, webhooks, the schedule) so that "
        "SIGTERM or Ctrl-C stops it cleanly. Use it wherever `qcluster` would run (Procfile.dev)."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        manage = Path(settings.BASE_DIR) / "manage.py"
        cluster = subprocess.Popen([sys.executable, str(manage), "qcluster"], start_new_session=True)

        def forward(signum: int, frame: FrameType | None) -> None:
            if cluster.poll() is None:
                cluster.send_signal(signal.SIGTERM)  # only the cluster's main process

        signal.signal(signal.SIGTERM, forward)
        signal.signal(signal.SIGINT, forward)
        code = cluster.wait()
        if code not in (0, -signal.SIGTERM):
            sys.exit(code if code > 0 else 128 - code)
