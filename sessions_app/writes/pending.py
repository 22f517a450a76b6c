"""A create still waiting in the outbox is a session you can read and change (issue #20, finding 11).

A 202 create answers an id and a ``sha`` "usable as the next If-Match"; until it lands, the
session has no row, so GET, PATCH and PUT on that id answered 404. Reads now serve the queued
version, marked pending; an update or delete with its sha queues behind it, in order.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.utils import timezone

from annoris.encryption import decrypt_text
from sessions_app.documents import DocumentError, parse_document
from sessions_app.models import PendingWrite, Session

OPEN = (PendingWrite.Status.PENDING, PendingWrite.Status.CONFLICT)


def queued_create(session_id: uuid.UUID) -> PendingWrite | None:
    """The open outbox create of ``session_id`` (pending or stopped as a conflict), or None."""
    entries = PendingWrite.objects.filter(
        session_id=session_id, operation=PendingWrite.Operation.CREATE, status__in=OPEN
    )
    return entries.order_by("id").first()


def stand_in(session_id: uuid.UUID) -> Session | None:
    """An unsaved row for a session that exists only as a queued create: its id, path and the
    sha it will have, enough for an update or delete to queue behind it. None when there is none."""
    entry = queued_create(session_id)
    if entry is None:
        return None
    return Session(id=session_id, github_path=entry.path, github_sha=entry.content_sha)


def representation(entry: PendingWrite, url: str) -> dict[str, Any]:
    """The session detail of a queued create, as the document will be read once it lands,
    with ``pending: true`` and its outbox entry. Raises DecryptionError."""
    text = decrypt_text(entry.content)
    try:
        parsed = parse_document(text.encode("utf-8"), path=entry.path, fallback_date=entry.created_at)
    except DocumentError:
        parsed = None  # accepted documents parse; if the parser changed since, still serve the text
    return {
        "id": str(entry.session_id),
        "title": parsed.title if parsed else "",
        "project": parsed.project if parsed else None,
        "status": parsed.status if parsed else "",
        "state": parsed.state if parsed else "unknown",
        "priority": parsed.priority if parsed else "",
        "next": parsed.next if parsed else "",
        "created_at": (parsed.created_at if parsed else entry.created_at).isoformat(),
        "path": entry.path,
        "sha": entry.content_sha,
        "size": len(text.encode("utf-8")),
        "last_synced": None,
        "url": url,
        "checksum": None,
        "deleted_at": None,
        "content": text,
        "pending": True,
        "outbox": {"id": entry.pk, "status": entry.status, "queued_at": entry.created_at.isoformat()},
        "served_at": timezone.now().isoformat(),
    }
