"""The delete guard: a sync that would delete too many live sessions changes nothing.

An empty or wrong source (an unmounted folder, an emptied branch) looks like every file
deleted; ``check_deletes`` refuses such a run before it applies anything (like rsync's
``--max-delete``), with ``SYNC_MAX_DELETE_RATIO`` as the bound.
"""

from __future__ import annotations

from django.conf import settings

from sessions_app.models import Session
from sync_app.plan import SyncPlan


class DeleteGuard(Exception):
    """The run would delete more sessions than SYNC_MAX_DELETE_RATIO allows."""


def check_deletes(plan: SyncPlan, *, allow: bool) -> None:
    """Refuse a run that would delete too many of the live sessions (like rsync's --max-delete).

    An empty or wrong source (an unmounted folder, an emptied branch) looks like every
    file deleted; such a run deletes nothing and changes nothing else either.
    """
    ratio = float(getattr(settings, "SYNC_MAX_DELETE_RATIO", 0.5))
    if allow or not plan.to_delete or ratio >= 1:
        return
    live = Session.objects.live().count()
    count = len(plan.to_delete)
    if count < live and count <= ratio * live:
        return
    share = "all" if count >= live else f"{count / live:.0%}"
    raise DeleteGuard(
        f"refused to delete {count} of {live} live sessions ({share}; SYNC_MAX_DELETE_RATIO={ratio:g}), "
        "so nothing was changed. Check that SESSIONS_SOURCE (folder, repository, branch) is the right "
        "one; if the deletions are meant, run `manage.py sync_github --allow-deletes` once."
    )
