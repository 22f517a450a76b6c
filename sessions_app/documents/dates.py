"""Dates as people write them in session documents, turned into aware UTC datetimes.

Accepted: "October 20, 2025 (Evening)", "Oct 20 2025", "20 October 2025", "2025-10-20",
"2025-10-20 14:30", ISO datetimes with an offset, and the ``date``/``datetime`` objects
PyYAML produces. A time-of-day word (Morning, Afternoon, Evening, Night, and their
Russian equivalents) sets a fixed hour so that sessions of one day sort in the order
they were worked; an explicit time always wins. Anything else is "not a date" (None),
never an error: the caller falls through to its next source of a date.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time

from dateutil import parser as dateutil_parser

__all__ = ["DateOutOfRange", "date_from_filename", "parse_human_date", "time_written", "to_utc"]

# Fixed hours for time-of-day words; chosen so Morning < Afternoon < Evening < Night.
TIME_OF_DAY_HOURS: dict[str, int] = {
    "morning": 9,
    "утро": 9,
    "утром": 9,
    "afternoon": 14,
    "день": 14,
    "днём": 14,
    "днем": 14,
    "evening": 19,
    "вечер": 19,
    "вечером": 19,
    "night": 22,
    "ночь": 22,
    "ночью": 22,
}

_TIME_WORD = re.compile(r"\b(" + "|".join(TIME_OF_DAY_HOURS) + r")\b", re.IGNORECASE)
_HAS_CLOCK_TIME = re.compile(r"\d{1,2}:\d{2}|T\d{2}")
# 2025-10-20, 2025_10_20 or 20251020, not part of a longer number.
_FILENAME_DATE = re.compile(r"(?<!\d)(\d{4})([-_]?)(\d{2})\2(\d{2})(?!\d)")
# Two defaults that differ in every field: a component missing from the string shows up
# as a difference between the two parses, and such a partial date is refused.
_DEFAULTS = (datetime(2000, 1, 1, 0, 0), datetime(2001, 2, 2, 0, 0))
# A year written with four digits; dateutil reads "0001" as 2001, so such a year is put back.
_FOUR_DIGIT_YEAR = re.compile(r"(?<![\d:.])(\d{4})(?![\d:])")


def to_utc(value: datetime) -> datetime:
    """``value`` as an aware UTC datetime; a naive value is taken to be UTC already.

    Raises ``DateOutOfRange`` when the UTC time falls outside what Python can hold
    (``0001-01-01T00:00:00+05:00`` is 19:00 on 31 December of the year 0).
    """
    if value.tzinfo is None or value.tzinfo.utcoffset(value) is None:
        return value.replace(tzinfo=UTC)
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise DateOutOfRange(f"date {value.isoformat()} is out of range in UTC") from None


class DateOutOfRange(ValueError):
    """A date that names a real instant Python cannot hold in UTC (before year 1 or after 9999)."""


def parse_human_date(value: object) -> datetime | None:
    """An aware UTC datetime for ``value``, or None when it is not a complete date.

    ``datetime`` values keep their time (naive means UTC); ``date`` values become
    midnight UTC; strings are parsed as described in the module docstring.
    """
    if isinstance(value, datetime):
        return to_utc(value)
    if isinstance(value, date):
        return datetime.combine(value, time(0, 0), tzinfo=UTC)
    if isinstance(value, str):
        return _parse_string(value)
    return None


def date_from_filename(name: str) -> datetime | None:
    """Midnight UTC of the first valid date in a file name, or None if it has none."""
    for match in _FILENAME_DATE.finditer(name):
        year, _separator, month, day = match.groups()
        try:
            return datetime(int(year), int(month), int(day), tzinfo=UTC)
        except ValueError:
            continue
    return None


def _parse_string(text: str) -> datetime | None:
    """Parse one human-written date string (see ``parse_human_date``)."""
    hour = _time_of_day_hour(text)
    cleaned = _TIME_WORD.sub(" ", re.sub(r"[()\[\]]", " ", text))
    cleaned = " ".join(cleaned.replace("—", " ").replace("–", " ").split()).strip(" ,;")
    if not cleaned:
        return None
    parsed = _parse_iso(cleaned) or _parse_free_form(cleaned)
    if parsed is None:
        return None
    if hour is not None and not _HAS_CLOCK_TIME.search(cleaned):
        parsed = parsed.replace(hour=hour, minute=0, second=0, microsecond=0)
    return to_utc(parsed)


def _time_of_day_hour(text: str) -> int | None:
    """The fixed hour for the first time-of-day word in ``text``, if any."""
    match = _TIME_WORD.search(text)
    return TIME_OF_DAY_HOURS[match.group(1).lower()] if match else None


def _parse_iso(text: str) -> datetime | None:
    """ISO 8601 date or datetime ("2025-10-20", "2025-10-20 14:30", "...+02:00")."""
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


# "October 20, 2025" and "Oct 20 2025", the form session files use, read without dateutil
# (a tenth of its cost); anything else goes through dateutil.
_MONTH_DAY_YEAR = re.compile(r"([A-Za-z]{3,9})\.? (\d{1,2}),? (\d{4})")
_MONTHS = {
    name: number
    for number, full in enumerate(
        (
            "january",
            "february",
            "march",
            "april",
            "may",
            "june",
            "july",
            "august",
            "september",
            "october",
            "november",
            "december",
        ),
        start=1,
    )  # fmt: skip
    for name in (full, full[:3], "sept" if number == 9 else full[:3])
}


def _parse_free_form(text: str) -> datetime | None:
    """Month-name and other formats through dateutil; None unless the date is complete."""
    quick = _MONTH_DAY_YEAR.fullmatch(text)
    if quick and quick.group(1).lower() in _MONTHS:
        try:
            return datetime(int(quick.group(3)), _MONTHS[quick.group(1).lower()], int(quick.group(2)))
        except ValueError:
            return None  # "February 30, 2025": dateutil refuses it too
    try:
        first, second = (dateutil_parser.parse(text, default=d) for d in _DEFAULTS)
    except (ValueError, OverflowError):
        return None
    if (first.year, first.month, first.day) != (second.year, second.month, second.day):
        return None
    years = {int(year) for year in _FOUR_DIGIT_YEAR.findall(text)}
    if len(years) == 1 and first.year not in years:
        year = years.pop()
        try:
            first = first.replace(year=year)  # "January 1, 0001" is the year 1, not 2001
        except ValueError:
            return None  # "February 29, 0003", or the year 0
    return first


_CLOCK = re.compile(r"(?<![\d:])(\d{1,2}:\d{2})(?::\d{2})?")


def time_written(value: object) -> str:
    """The time of day as a date value gave it ("Evening", "14:30"), or "" when it gave none.

    Shown instead of the fixed hour or midnight that ``parse_human_date`` fills in.
    """
    if isinstance(value, datetime):
        return f"{value:%H:%M}"
    if not isinstance(value, str):
        return ""
    clock, word = _CLOCK.search(value), _TIME_WORD.search(value)
    return clock.group(1) if clock else (word.group(1) if word else "")
