"""Durable pending invalidations: no cached row outlives a committed change by more than a bound.

A write calls ``sessions_changed(ids)`` in its transaction: one ``CacheInvalidation`` row per
session commits with the change. After commit the writer refreshes the cache and deletes its
records; if Redis was out or the writer died, any process's read path replays them
(``sweep_if_due``), dropping the cached copies. Bound once Redis answers: sweep interval +
breaker cooldown + 1 s + 2 s (18 s by default). Why records, not a version check per hit: that
check must ask the database, the cost the cache exists to avoid."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable
from datetime import timedelta

from django.conf import settings
from django.db import DatabaseError, transaction
from django.utils import timezone

from annoris import database
from sessions_app.models import CacheInvalidation, Session
from sessions_app.readpath import cache
from sessions_app.readpath import state as _state

logger = logging.getLogger("annoris.readpath.invalidation")

SWEEP_BATCH = 500  # records one sweep replays (one SELECT, one DEL, one DELETE): a read's work for others
RETRY_SECONDS = 1.0  # next sweep while records are left or the cache/database did not answer
SETTLE_SECONDS = 2.0  # a younger record is left to its writer (at most a fifth of the sweep interval)
_BATCH_LIMIT = 10_000


def sessions_changed(session_ids: Iterable[uuid.UUID]) -> None:
    """Call inside the transaction that changes these sessions: records commit with it; after
    commit the cache gets the committed rows and the records go (outside a transaction: at once)."""
    ids = list(dict.fromkeys(session_ids))
    if not ids or not cache.enabled():
        return
    records = CacheInvalidation.objects.bulk_create([CacheInvalidation(session_id=i) for i in ids])
    batch = _state.STATE.changed  # per thread: ids changed in its open transaction(s)
    pending = getattr(batch, "pending", None)
    if pending is None or len(pending[0]) > _BATCH_LIMIT:
        pending = batch.pending = ([], [])
    pending[0].extend(ids)
    pending[1].extend(r.pk for r in records if r.pk is not None)
    # One refresh per commit: the first callback takes the whole batch, the others find it empty.
    # A batch left by a rolled-back transaction is refreshed with the next one: harmless, the
    # refresh reads committed rows and deletes only records that exist.
    transaction.on_commit(_refresh_batch)


def _refresh_batch() -> None:
    batch = _state.STATE.changed
    pending = getattr(batch, "pending", None)
    batch.pending = None
    if pending and pending[0]:
        try:
            _replay(list(dict.fromkeys(pending[0])), pending[1])
        except Exception:  # an after-commit hook must not fail the committed write
            logger.exception("cache refresh after commit failed; the sweep will replay it")


def _replay(session_ids: list[uuid.UUID], record_ids: list[int]) -> bool:
    """Overwrite the cached copies with the committed rows, then delete the records; True if done."""
    rows = database.call(lambda: list(Session.objects.select_related("project").filter(id__in=session_ids)))
    if rows is database.DOWN:
        return False
    gone = set(session_ids) - {row.id for row in rows}
    if not (cache.set_rows(rows) and cache.drop(gone)):
        return False  # the cache did not take it: the records stay for a sweep
    if record_ids:
        database.call(lambda: CacheInvalidation.objects.filter(pk__in=record_ids).delete())
    return True


def _drop(session_ids: list[uuid.UUID], record_ids: list[int]) -> bool:
    """Delete the cached copies (one DEL), then the records; True if done. No row is read; a
    reader of the old row cannot put it back after: a record is swept once SETTLE s old."""
    if not cache.drop(session_ids):
        return False
    database.call(lambda: CacheInvalidation.objects.filter(pk__in=record_ids).delete())
    return True


def sweep_if_due() -> None:
    """Replay pending invalidations when the sweep is due (the hot path: one clock comparison)."""
    state = _state.STATE
    if state.clock() >= state.next_sweep:
        sweep(state)


def sweep(state: _state.ReadPathState | None = None) -> int:
    """Replay up to SWEEP_BATCH pending invalidations (any process's); returns how many."""
    state = state or _state.STATE
    if not state.sweep_lock.acquire(blocking=False):
        return 0  # another thread of this process is sweeping
    try:
        state.next_sweep = state.clock() + RETRY_SECONDS  # unless all goes well below
        if not cache.enabled():
            state.next_sweep = state.clock() + settings.ANNORIS_CACHE_SWEEP_INTERVAL
            return 0
        interval = settings.ANNORIS_CACHE_SWEEP_INTERVAL
        settle = timedelta(seconds=min(SETTLE_SECONDS, interval / 5))
        settled = CacheInvalidation.objects.filter(created_at__lt=timezone.now() - settle)
        records = database.call(
            lambda: list(settled.order_by("pk").values_list("pk", "session_id")[:SWEEP_BATCH])
        )
        if records is database.DOWN:
            return 0
        if records and not _drop(list(dict.fromkeys(s for _, s in records)), [pk for pk, _ in records]):
            return 0
        # A full batch: the next read continues at once (each read does one batch at most).
        state.next_sweep = state.clock() + (interval if len(records) < SWEEP_BATCH else 0.0)
        if records:
            logger.info("replayed %d pending cache invalidation(s)", len(records))
        return len(records)
    except DatabaseError as exc:  # data, not an outage: log, try again later
        logger.warning("pending cache invalidations could not be read: %s", exc)
        return 0
    finally:
        state.sweep_lock.release()


def pending_count() -> int | None:
    """Pending invalidations in the database (for /health), None when it cannot be asked."""
    count = database.call(CacheInvalidation.objects.count)
    return None if count is database.DOWN else count
