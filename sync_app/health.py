"""What /health reports: each layer of the read path, the queue and the last successful sync.

Each layer is ``connected``, ``disabled`` (the cache without REDIS_URL) or ``down`` with
the time it went down, taken from the read path's circuit breakers: while a layer's
breaker is open, /health does not call it either, so a dead dependency costs nothing here.
Healthy (200) means reads can be served: the database answers, or the source does.
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.db import connection
from django.utils import timezone

from annoris.breaker import CLOSED, CircuitBreaker
from annoris.timestamps import iso
from sessions_app import readpath
from sync_app import drift
from sync_app.models import SyncLog

logger = logging.getLogger(__name__)


def _down(breaker: CircuitBreaker) -> dict[str, Any]:
    return {"status": "down", "since": iso(breaker.down_since)}


def check_database() -> dict[str, Any]:
    if readpath.call_database(_select_one) is readpath.DOWN:
        pending = readpath.pending_counts()["write_backs"]
        return _down(readpath.breakers()["database"]) | {"pending_write_backs": pending}
    return {"status": "connected", "vendor": connection.vendor}


def _select_one() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def check_cache() -> dict[str, Any]:
    if not readpath.cache_enabled():
        return {"status": "disabled"}
    if readpath.cache_ping():
        return {"status": "connected", "pending_invalidations": readpath.pending_counts()["invalidations"]}
    return _down(readpath.breakers()["cache"])


def check_source() -> dict[str, Any]:
    """The source is not called here (GitHub has a rate limit): its state is the last read's."""
    kind = "github" if settings.SESSIONS_SOURCE == "github" else "local"
    breaker = readpath.breakers()["source"]
    if breaker.state != CLOSED:
        return _down(breaker) | {"kind": kind}
    return {"status": "connected", "kind": kind}


def check_queue() -> dict[str, Any]:
    """Tasks waiting in the ORM broker, and running clusters when their stats are shared (Redis)."""
    from django_q.models import OrmQ

    queued = readpath.call_database(OrmQ.objects.count)
    if queued is readpath.DOWN:
        return {"status": "unknown"}
    report: dict[str, Any] = {"status": "ok", "queued": queued}
    waited = readpath.call_database(oldest_wait_seconds) if queued else None
    if waited is not None and waited is not readpath.DOWN:
        report["oldest_wait_seconds"] = waited
        if waited > settings.ANNORIS_QUEUE_STALE_AFTER:
            report["status"] = "stalled"  # no worker is taking tasks: is `manage.py worker` running?
    if readpath.cache_enabled() and readpath.breakers()["cache"].state == CLOSED:
        report["clusters"] = _cluster_count()
    return report


def oldest_wait_seconds() -> int | None:
    """Seconds the oldest task not yet taken by a worker has waited (None: nothing waits).

    The ORM broker stamps ``lock`` with the enqueue time and moves it into the future when
    a worker takes the task, so a ``lock`` in the past is a task no worker has taken.
    """
    from django.db.models import Min
    from django_q.models import OrmQ

    now = timezone.now()
    oldest = OrmQ.objects.filter(lock__lte=now).aggregate(oldest=Min("lock"))["oldest"]
    return None if oldest is None else round((now - oldest).total_seconds())


def _cluster_count() -> int | None:
    from django_q.status import Stat

    try:
        return len(Stat.get_all())
    except Exception:  # stats are advisory; a failure here must not fail /health
        logger.debug("could not read django-q cluster stats", exc_info=True)
        return None


def last_sync() -> dict[str, Any]:
    query = SyncLog.objects.filter(status__in=["success", "partial"]).order_by("-synced_at").first
    log = readpath.call_database(query)
    if log is readpath.DOWN:
        return {"status": "unknown"}
    if log is None:
        return {"status": "never"}
    age = (timezone.now() - (log.finished_at or log.synced_at)).total_seconds()
    return {"status": log.status, "at": iso(log.synced_at), "age_seconds": round(age)}


def outbox() -> dict[str, Any]:
    """Writes waiting for GitHub (pending) and stopped as conflicts (see the admin's outbox)."""
    from sessions_app.writes import outbox_counts

    counts = readpath.call_database(outbox_counts)
    if counts is readpath.DOWN:
        return {"status": "unknown"}
    state = "conflict" if counts.get("conflict") else ("pending" if counts.get("pending") else "ok")
    return {"status": state, **counts}


def search_index() -> dict[str, Any]:
    """Live sessions waiting to be indexed for search (the index lag; 0 when all are searchable),
    and whether a large build into an empty index has its term index still to build."""
    from sessions_app.search import index_waiting, semantic_on, term_index_present

    waiting = readpath.call_database(lambda: index_waiting(vectors=semantic_on()))
    present = readpath.call_database(term_index_present)
    if waiting is readpath.DOWN or present is readpath.DOWN:
        return {"status": "unknown"}
    if not present:
        return {"status": "building", "waiting": waiting, "term_index": _TERM_INDEX_ABSENT}
    return {"status": "behind" if waiting else "ok", "waiting": waiting}


_TERM_INDEX_ABSENT = (
    "absent: a large build into an empty index builds it at its end (a build that was stopped "
    "leaves it to the next); searches scan the postings meanwhile, in seconds at 100,000 sessions"
)


def health_report() -> tuple[bool, dict[str, Any]]:
    """(healthy, report). Healthy means reads can be served: the database or the source answers."""
    report = {
        "database": check_database(),
        "cache": check_cache(),
        "source": check_source(),
        "queue": check_queue(),
        "last_sync": last_sync(),
        "drift": drift.drift_summary(),  # counts of the last drift report (issue #8); no source call
        "outbox": outbox(),
        "search_index": search_index(),
    }
    layers = [report[name]["status"] for name in ("database", "cache", "source")]
    healthy = report["database"]["status"] == "connected" or report["source"]["status"] == "connected"
    stalled = report["queue"]["status"] == "stalled"
    report["status"] = (
        "ok"
        if healthy and "down" not in layers and not stalled
        else ("degraded" if healthy else "unavailable")
    )
    return healthy, report
