"""One push, one sync: a signed push body replayed under fresh delivery ids queues nothing new.

GitHub's signature covers the body, not ``X-GitHub-Delivery``, so a captured push can be sent
again with any delivery id and still verify. Deduplicating by delivery id alone let ten replays
queue ten syncs (issue #20, finding 12). A push is named by its ``ref`` and ``after`` commit:
while a delivery of that push is queued or done, another delivery of it is recorded as an
ignored replay and queues nothing, so one push queues at most one sync at a time (a failed
one may be redelivered). Concurrent replays are serialised per push by a transaction-scoped
PostgreSQL advisory lock (SQLite serialises writers itself).
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection, transaction

from sync_app.models import WebhookDelivery

_PG_CLASS = 0x7075_7368  # "push": advisory lock class id of this module
_NO_COMMIT = "0" * 40  # "after" of a branch deletion


@contextmanager
def push_serialised(ref: str, after: str) -> Iterator[None]:
    """A transaction in which no other delivery of the same push is being recorded."""
    with transaction.atomic():
        if connection.vendor == "postgresql" and after:
            key = zlib.crc32(f"{ref}\n{after}".encode()) & 0x7FFFFFFF
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [_PG_CLASS, key])
        yield


def earlier_delivery(*, ref: str, after: str, delivery_id: str) -> WebhookDelivery | None:
    """Another delivery of this push that is queued or done, or None."""
    if not after or after == _NO_COMMIT:
        return None
    taken = (WebhookDelivery.Status.QUEUED, WebhookDelivery.Status.DONE)
    same_push = WebhookDelivery.objects.filter(ref=ref, after=after, status__in=taken)
    return same_push.exclude(delivery_id=delivery_id).order_by("received_at").first()
