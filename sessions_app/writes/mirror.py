"""The plain mirror write: a write the source accepted, stored in the session row.

Called by the write services when the source took the write at once and by the outbox
when a queued write lands; the cache follows after the transaction commits.
"""

from __future__ import annotations

import logging
import uuid

from django.db import transaction
from django.utils import timezone

from sessions_app.documents import DocumentError, parse_document
from sessions_app.models import PendingWrite
from sessions_app.services import SessionIdConflict, session_soft_delete_missing, session_upsert_from_source

logger = logging.getLogger(__name__)


def apply_to_database(
    *, operation: str, session_id: uuid.UUID, path: str, text: str | None, sha: str | None
) -> None:
    """Mirror a write the source accepted into the session row (the cache follows after commit).

    A file the parser refuses or an id taken by another file is logged and left to the next
    sync: the source already holds the write, and the source is the master copy.
    """
    now = timezone.now()
    if operation == PendingWrite.Operation.DELETE:
        session_soft_delete_missing(paths=[path], deleted_at=now)
        return
    assert text is not None and sha is not None
    try:
        with transaction.atomic():
            parsed = parse_document(text.encode("utf-8"), path=path, fallback_date=now)
            session_upsert_from_source(
                session_id=session_id, path=path, sha=sha, parsed=parsed, synced_at=now
            )
    except (DocumentError, SessionIdConflict) as exc:
        logger.warning("wrote %s but could not mirror it (%s); the next sync will", path, exc)
