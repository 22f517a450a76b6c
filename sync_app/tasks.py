"""django-q2 tasks: one-line wrappers around the engine."""

from __future__ import annotations

from django_q.conf import Conf

from sessions_app import search
from sync_app import services
from sync_app.engine import run_sync


def sync_sessions(
    trigger: str = "schedule", delivery_id: str | None = None, log_id: str | None = None
) -> dict | None:
    """Run a sync; if one is running, ask for one more run (coalescing) and return None.

    The run that covers a webhook delivery marks it done or failed (see
    ``services.webhook_deliveries_settle``); should the run not even start,
    ``delivery_id`` is marked failed here so that GitHub's redelivery runs it again.
    ``log_id``: the log made ``queued`` when the sync was requested, which the run fills in.
    """
    # In a worker, a trigger that finds a sync running waits for it (so a run that dies
    # still leaves this trigger its sync); run in-line (Q_SYNC, inside a web request),
    # it must not block, and leaves the follow-up to the running sync.
    try:
        result = run_sync(trigger=trigger, if_busy="queue" if Conf.SYNC else "wait", log_id=log_id)
    except Exception as exc:
        if delivery_id:
            services.webhook_delivery_fail(delivery_id=delivery_id, error=f"{type(exc).__name__}: {exc}")
        raise
    return None if result is None else {"log_id": result.log_id, "status": result.status, **result.counts}


def outbox_drain() -> dict:
    """Try the outbox's due writes (queued on each accepted write and by its schedule), then
    forget expired Idempotency-Keys."""
    from sessions_app.writes import idempotency_purge_expired
    from sessions_app.writes import outbox_drain as drain

    report = drain().as_dict()
    idempotency_purge_expired()
    return report


def index_search() -> int:
    """Index the sessions a bulk import left unindexed (see sessions_app.search.INLINE_LIMIT)."""
    return search.index_pending()
