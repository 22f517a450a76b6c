"""The admin index's health panel: what ``sync_app.health.health_report()`` says, as a table.

Keys other helpers add to the report (``outbox``, ``drift``, ...) are shown the same way:
each key is a row with its status and its other fields, so nothing here needs to change.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django import template
from django.urls import reverse
from django.utils import formats

from sync_app.health import health_report
from sync_app.models import SyncLog

register = template.Library()

_LABELS = {
    "database": "Database",
    "cache": "Cache (Redis)",
    "source": "Session source",
    "queue": "Task queue",
    "last_sync": "Last sync",
    "outbox": "Outbox (writes waiting for GitHub)",
    "drift": "Drift",
}
_HINTS = {
    ("queue", "stalled"): "No worker is taking tasks: start one with `manage.py worker` (make run does).",
    ("cache", "disabled"): "Set REDIS_URL to turn the cache layer on.",
    ("last_sync", "never"): "Press “Sync now” on the sync logs page.",
}


def _duration(seconds: float) -> str:
    seconds = round(seconds)
    if seconds < 120:
        return f"{seconds} s"
    return f"{seconds // 60} min" if seconds < 7200 else f"{seconds // 3600} h"


def _detail(value: Any, key: str = "") -> str:
    """A report value as a person reads it: durations in s/min/h, timestamps without microseconds."""
    if isinstance(value, dict):
        parts = (f"{k.replace('_', ' ').removesuffix(' seconds')}: {_detail(v, k)}" for k, v in value.items())
        return ", ".join(parts)
    if isinstance(value, list):
        return f"{len(value)} items"
    if key.endswith("_seconds") and isinstance(value, int | float):
        return _duration(value)
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            return value
        return formats.date_format(moment, "DATETIME_FORMAT") if moment.tzinfo else value
    return str(value)


def health_rows(report: dict[str, Any]) -> list[dict[str, str]]:
    """One row per layer of a health report: key, label, status, detail and hint (the admin's
    panel and /health's page for browsers)."""
    rows = []
    for key, value in report.items():
        if key == "status" or not isinstance(value, dict):
            continue
        status = str(value.get("status", ""))
        details = {k: v for k, v in value.items() if k != "status"}
        label = _LABELS.get(key, key.replace("_", " ").capitalize())
        hint = _HINTS.get((key, status), "")
        rows.append({"key": key, "label": label, "status": status, "detail": _detail(details), "hint": hint})
    return rows


@register.inclusion_tag("admin/sync_app/health_panel.html", takes_context=True)
def health_panel(context: template.Context) -> dict[str, Any]:
    healthy, report = health_report()
    request = context.get("request")
    last = SyncLog.objects.order_by("-synced_at").first()
    return {
        "overall": report.get("status", "ok" if healthy else "unavailable"),
        "rows": health_rows(report),
        "last_log": last,
        "last_log_url": reverse("admin:sync_app_synclog_change", args=[last.pk]) if last else "",
        "logs_url": reverse("admin:sync_app_synclog_changelist"),
        "sync_now_url": reverse("admin:sync_app_synclog_sync_now"),
        "can_sync": bool(request is not None and request.user.is_superuser),
        "csrf_token": context.get("csrf_token"),
    }
