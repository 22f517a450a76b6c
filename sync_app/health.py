"""What /health reports: each dependency and the age of the last successful sync."""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.core.cache import caches
from django.db import DatabaseError, connection
from django.utils import timezone

from sync_app.models import SyncLog

logger = logging.getLogger(__name__)


def check_database() -> dict[str, Any]:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError as exc:
        return {"status": "down", "error": type(exc).__name__}
    return {"status": "connected", "vendor": connection.vendor}


def check_cache() -> dict[str, Any]:
    if not settings.ANNORIS_SESSION_CACHE:
        return {"status": "disabled"}
    try:
        caches[settings.ANNORIS_SESSION_CACHE].get("annoris:health")
    except Exception as exc:  # any client error means the layer is unusable
        return {"status": "down", "error": type(exc).__name__}
    return {"status": "connected"}


def last_sync() -> dict[str, Any]:
    try:
        log = SyncLog.objects.filter(status__in=["success", "partial"]).order_by("-synced_at").first()
    except DatabaseError:
        return {"status": "unknown"}
    if log is None:
        return {"status": "never"}
    age = (timezone.now() - (log.finished_at or log.synced_at)).total_seconds()
    return {"status": log.status, "at": log.synced_at.isoformat(), "age_seconds": round(age)}


def health_report() -> tuple[bool, dict[str, Any]]:
    """(healthy, report). Healthy means the database answers: it is what serves reads."""
    report = {"database": check_database(), "cache": check_cache(), "last_sync": last_sync()}
    healthy = report["database"]["status"] == "connected"
    report["status"] = "ok" if healthy else "degraded"
    return healthy, report
