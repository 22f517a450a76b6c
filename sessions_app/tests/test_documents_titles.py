"""Titles of real documents: setext and reST headings, badges dropped; undated and history dates."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from sessions_app.documents import parse_document

SEEN = datetime(2026, 5, 1, tzinfo=UTC)


def title(text: str, path: str = "docs/readme.md") -> str:
    return parse_document(text.encode(), path=path, fallback_date=SEEN).title


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Django settings\n===============\n\nBody.\n", "Django settings"),
        ("Installing\n----------\n\nBody.\n", "Installing"),
        ("=========\nPyGithub\n=========\n\nBody.\n", "PyGithub"),
        ("Introduction\n^^^^^^^^^^^^\n\nBody.\n", "Introduction"),
        (
            "# [![CI](https://x/badge.svg)](https://x) [![npm](https://b/n.svg)](https://n) left-pad\n",
            "left-pad",
        ),
        ("![logo](logo.png)\n\n# ![logo](l.png) Annoris\n", "Annoris"),
        ("# [![CI](https://x/badge.svg)](https://x)\n\nMy Tool\n=======\n", "My Tool"),
    ],
)
def test_titles_come_from_setext_and_rest_headings_without_badges(text: str, expected: str) -> None:
    assert title(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "- a list item\n---\n\nBody.\n",
        "**Next:** ship it\n---\n\nBody.\n",
        "Short\n~~\n",  # a reST underline shorter than its line is not one
    ],
)
def test_what_only_looks_like_a_heading_is_not_a_title(text: str) -> None:
    assert title(text, "notes/2026-01-02-fallback-stem.md") == "2026-01-02-fallback-stem"


def test_a_document_with_no_date_anywhere_is_undated_and_history_dates_it() -> None:
    undated = parse_document(b"# Notes\n", path="notes/notes.md", fallback_date=SEEN)
    assert undated.undated and undated.date_source == "fallback"
    touched = datetime(2025, 7, 3, 10, 0, tzinfo=UTC)
    dated = parse_document(b"# Notes\n", path="notes/notes.md", fallback_date=SEEN, history_date=touched)
    assert not dated.undated and (dated.created_at, dated.date_source) == (touched, "history")
    for name in ("2025-10-20_notes.md", "2025-10-20-notes.md"):
        named = parse_document(b"# Notes\n", path=f"n/{name}", fallback_date=SEEN, history_date=touched)
        assert named.date_source == "path" and named.created_at == datetime(2025, 10, 20, tzinfo=UTC)


@pytest.mark.parametrize("text", ["w " * 490_000, "x\n" * 300_000, "# " + "w " * 490_000])
def test_finding_titles_stays_linear_on_a_megabyte(text: str) -> None:
    import time

    started = time.perf_counter()
    parse_document(text.encode(), path="big/2026-01-01.md", fallback_date=SEEN)
    assert time.perf_counter() - started < 3  # a nested-quantifier regex took minutes here
