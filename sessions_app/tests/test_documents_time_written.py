"""The parser keeps the time of day a document gave (issue #11: show what the document said)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from sessions_app.documents import parse_document

NOW = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        ("**Date:** October 20, 2025 (Evening)\n", "Evening"),
        ("**Date:** 20 октября 2025 вечером\n", ""),  # no complete date parsed: fallback, no time
        ("**Date:** 2025-09-18 14:30\n", "14:30"),
        ("**Date:** 2025-10-20T09:05:00+02:00\n", "09:05"),
        ("**Date:** Sep 15 2025\n", ""),
        ("---\ndate: 2025-10-20 18:45:00\n---\n# T\n", "18:45"),
        ("---\ndate: 2025-10-20\n---\n# T\n", ""),
        ("# No date at all\n", ""),
    ],
)
def test_it_records_the_time_of_day_only_when_the_date_gave_one(document: str, expected: str) -> None:
    text = document if document.startswith("---") else f"# Title\n\n{document}"
    parsed = parse_document(text.encode(), path="notes/x.md", fallback_date=NOW)
    assert parsed.created_time == expected


def test_a_file_name_date_gives_no_time() -> None:
    parsed = parse_document(b"# T\n", path="2025-10-20-notes.md", fallback_date=NOW)
    assert (parsed.date_source, parsed.created_time) == ("path", "")
