"""Search parameters given as text (the MCP tool's): a state name and a since date."""

from __future__ import annotations

from datetime import UTC, datetime, time
from typing import Literal

from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

__all__ = ["StateName", "parse_since"]

StateName = Literal["done", "in_progress", "blocked", "planned", "unknown"]


def parse_since(text: str) -> datetime:
    """An ISO 8601 date or date-time (naive ones read as UTC); ValueError with a sentence otherwise."""
    try:
        moment = parse_datetime(text.strip())
        if moment is None and (day := parse_date(text.strip())) is not None:
            moment = datetime.combine(day, time.min)
    except ValueError:
        moment = None
    if moment is None:
        raise ValueError(f"since must be an ISO 8601 date such as 2026-01-31, not {text[:40]!r}")
    return moment if timezone.is_aware(moment) else moment.replace(tzinfo=UTC)
