"""Session-document parsing: rejections, field precedence, dates, samples (no Django needed)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from sessions_app.documents import MAX_DOCUMENT_BYTES, DocumentError, ParsedDocument, parse_document

SAMPLES = Path(__file__).resolve().parents[2] / "samples" / "sessions"
SAMPLE_PATHS = sorted(SAMPLES.rglob("*.md"))
FALLBACK = datetime(2001, 2, 3, 4, 5, tzinfo=UTC)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def parse(text: str | bytes, path: str = "notes.md", fallback: datetime = FALLBACK) -> ParsedDocument:
    raw = text.encode("utf-8") if isinstance(text, str) else text
    return parse_document(raw, path=path, fallback_date=fallback)


def rejection(raw: bytes) -> str:
    with pytest.raises(DocumentError) as caught:
        parse_document(raw, path="notes.md", fallback_date=FALLBACK)
    assert "\n" not in str(caught.value)
    return str(caught.value)


FRONT_MATTER_DOC = """---
Title: Front matter title
DATE: 2025-10-22
Status: From front matter
priority: HIGH
project: Front Project
next: Front next step
---

# Heading title

**Date:** October 20, 2025
**Status:** From bold field
**Priority:** LOW
**Project:** Bold Project
**Next:** Bold next step
"""

BOLD_DOC = """# Heading title

**Date:** October 20, 2025
**Status:** From bold field
**Priority:** LOW
**Project:** Bold Project
**Next:** Bold next step
"""


# --- Rejections -----------------------------------------------------------------


def test_it_rejects_a_10_mb_file() -> None:
    assert rejection(b"a" * 10_485_760) == "file too large (10485760 bytes, limit 1000000)"


def test_it_accepts_a_file_of_exactly_the_size_limit() -> None:
    raw = b"# Big\n" + b"x" * (MAX_DOCUMENT_BYTES - 6)

    assert parse(raw).title == "Big"


def test_it_rejects_a_file_with_nul_bytes_as_binary() -> None:
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00"

    assert rejection(png) == "binary file"


def test_it_rejects_mostly_control_bytes_as_binary() -> None:
    assert rejection(bytes(range(1, 32)) * 20) == "binary file"


def test_it_rejects_invalid_utf8_with_the_byte_offset() -> None:
    assert rejection(b"# Title\n\xff rest") == "not valid UTF-8 at byte 8"


def test_it_rejects_a_cp1251_file_as_not_utf8() -> None:
    assert rejection("# Привет".encode("cp1251")) == "not valid UTF-8 at byte 2"


def test_it_rejects_front_matter_that_is_not_valid_yaml() -> None:
    message = rejection(b"---\ntitle: [unclosed\n---\n# Body\n")

    assert message.startswith("front matter is not valid YAML: ")


def test_it_rejects_front_matter_that_is_not_a_mapping() -> None:
    assert rejection(b"---\n- one\n- two\n---\n").startswith("front matter is not a mapping")


def test_it_rejects_an_invalid_id() -> None:
    assert rejection(b"---\nid: not-a-uuid\n---\n") == "front matter id is not a valid UUID: 'not-a-uuid'"


# --- Content and BOM --------------------------------------------------------------


def test_it_removes_a_bom_and_records_it() -> None:
    doc = parse(b"\xef\xbb\xbf---\ntitle: With BOM\n---\nbody\n")

    assert doc.content == "---\ntitle: With BOM\n---\nbody\n"
    assert doc.title == "With BOM"
    assert doc.repairs == ("removed UTF-8 byte-order mark",)


def test_it_keeps_crlf_content_byte_for_byte() -> None:
    raw = "# Заголовок ✅\r\n\r\n**Status:** Done  \r\n**Next:** Ship it\r\n".encode()

    doc = parse(raw)

    assert doc.content.encode("utf-8") == raw
    assert (doc.title, doc.status, doc.next, doc.repairs) == ("Заголовок", "Done", "Ship it", ())


def test_it_keeps_the_front_matter_in_the_content() -> None:
    assert parse(FRONT_MATTER_DOC).content == FRONT_MATTER_DOC


# --- Precedence -----------------------------------------------------------------


def test_it_prefers_front_matter_over_bold_fields_with_case_insensitive_keys() -> None:
    doc = parse(FRONT_MATTER_DOC, path="other/2024-01-01-x.md")

    assert doc.title == "Front matter title"
    assert (doc.created_at, doc.date_source) == (utc(2025, 10, 22), "front_matter")
    assert (doc.status, doc.priority, doc.project, doc.next) == (
        "From front matter",
        "HIGH",
        "Front Project",
        "Front next step",
    )
    assert doc.front_matter["Title"] == "Front matter title"


def test_it_prefers_bold_fields_over_the_path() -> None:
    doc = parse(BOLD_DOC, path="path-project/2024-01-01-x.md")

    assert (doc.created_at, doc.date_source) == (utc(2025, 10, 20), "field")
    assert (doc.status, doc.priority, doc.project, doc.next) == (
        "From bold field",
        "LOW",
        "Bold Project",
        "Bold next step",
    )
    assert doc.front_matter == {}


def test_it_takes_date_and_project_from_the_path_when_the_text_has_none() -> None:
    doc = parse("# Title\n", path="pricewise/2025-09-18-scraper.md")

    assert (doc.created_at, doc.date_source, doc.project) == (utc(2025, 9, 18), "path", "Pricewise")


@pytest.mark.parametrize("name", ["2025-10-20-notes.md", "2025_10_20_notes.md", "notes-20251020.md"])
def test_it_reads_the_date_formats_of_file_names(name: str) -> None:
    doc = parse("# Title\n", path=name)

    assert (doc.created_at, doc.date_source) == (utc(2025, 10, 20), "path")


def test_it_falls_back_to_the_given_date() -> None:
    doc = parse("# Title\n", path="notes.md")

    assert (doc.created_at, doc.date_source) == (FALLBACK, "fallback")


def test_it_takes_a_naive_fallback_date_as_utc() -> None:
    assert parse("x", fallback=datetime(2025, 1, 2, 3, 4)).created_at == utc(2025, 1, 2, 3, 4)


def test_it_falls_through_an_unparseable_date_to_the_path() -> None:
    doc = parse("**Date:** sometime next week\n", path="2025-10-20-x.md")

    assert (doc.created_at, doc.date_source) == (utc(2025, 10, 20), "path")


def test_it_falls_through_an_unparseable_front_matter_date_to_the_bold_field() -> None:
    doc = parse("---\ndate: when it was done\n---\n**Date:** Oct 20 2025\n")

    assert (doc.created_at, doc.date_source) == (utc(2025, 10, 20), "field")


def test_it_falls_through_a_partial_date_to_the_fallback() -> None:
    doc = parse("**Date:** October 2025\n")

    assert (doc.created_at, doc.date_source) == (FALLBACK, "fallback")


@pytest.mark.parametrize(
    ("path", "project"),
    [
        ("annoris/2025-10-20-x.md", "Annoris"),
        ("lingua-drift/x.md", "Lingua Drift"),
        ("Client Work/sub/x.md", "Client Work"),
        ("sessions/pricewise/x.md", "Pricewise"),
        ("sessions/x.md", None),
        ("x.md", None),
    ],
)
def test_it_names_the_project_after_the_first_non_generic_folder(path: str, project: str | None) -> None:
    assert parse("# Title\n", path=path).project == project


def test_it_returns_empty_fields_when_absent() -> None:
    doc = parse("Just some text.\n", path="x/y.md")

    assert (doc.status, doc.priority, doc.next, doc.session_id) == ("", "", "", None)


# --- Bold field variants --------------------------------------------------------


def test_it_reads_bold_fields_with_colon_outside_and_list_markers() -> None:
    doc = parse("- **Date**: 20 October 2025\n- **Status**: Listed\n* **Priority:** P1\n")

    assert (doc.created_at, doc.status, doc.priority) == (utc(2025, 10, 20), "Listed", "P1")


def test_it_ignores_bold_fields_inside_code_fences() -> None:
    doc = parse("```\n**Status:** in code\n```\n**Status:** real\n")

    assert doc.status == "real"


def test_it_keeps_the_first_status_when_a_later_one_only_heads_a_list() -> None:
    doc = parse("**Status:** ✅ Done\n\n## Later\n\n**Status:**\n- ✅ item\n")

    assert doc.status == "✅ Done"


def test_it_truncates_status_and_priority_and_records_it() -> None:
    doc = parse(f"**Status:** {'s' * 150}\n**Priority:** {'p' * 80}\n")

    assert (len(doc.status), len(doc.priority)) == (100, 50)
    assert doc.repairs == ("status truncated to 100 characters", "priority truncated to 50 characters")


def test_it_reads_a_valid_id() -> None:
    doc = parse("---\nid: 3F6C2A9E-8B41-4D7F-9A35-1C0E5B7D2F84\n---\n")

    assert doc.session_id == uuid.UUID("3f6c2a9e-8b41-4d7f-9a35-1c0e5b7d2f84")


# --- Title ----------------------------------------------------------------------


def test_it_prefers_the_heading_over_the_file_stem() -> None:
    assert parse("intro\n# The heading\n", path="a/my-notes.md").title == "The heading"


def test_it_uses_the_file_stem_without_title_or_heading() -> None:
    assert parse("## Only a subheading\n", path="a/2025-10-20-my-notes.md").title == "2025-10-20-my-notes"


def test_it_ignores_a_comment_in_a_code_fence_as_heading() -> None:
    assert parse("```python\n# main.py\n```\n# Real heading\n").title == "Real heading"


def test_it_does_not_take_a_yaml_comment_in_front_matter_as_heading() -> None:
    doc = parse("---\n# a YAML comment\nstatus: ok\n---\n# Body heading\n")

    assert (doc.title, doc.status) == ("Body heading", "ok")


def test_it_strips_markdown_and_edge_emoji_from_the_title() -> None:
    doc = parse("# 🚀 **Bold** [linked](https://example.com) `code` title ✅\n")

    assert doc.title == "Bold linked code title"


def test_it_keeps_emoji_inside_the_title() -> None:
    assert parse("# Fix 🐛 in parser\n").title == "Fix 🐛 in parser"


# --- Dates ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("October 20, 2025 (Evening)", utc(2025, 10, 20, 19)),
        ("October 20, 2025 (Morning)", utc(2025, 10, 20, 9)),
        ("October 20, 2025 (Afternoon)", utc(2025, 10, 20, 14)),
        ("October 20, 2025 (Night)", utc(2025, 10, 20, 22)),
        ("Oct 20 2025", utc(2025, 10, 20)),
        ("2025-10-20", utc(2025, 10, 20)),
        ("20 October 2025", utc(2025, 10, 20)),
        ("2025-10-20 14:30", utc(2025, 10, 20, 14, 30)),
        ("2025-10-20T14:30:00+02:00", utc(2025, 10, 20, 12, 30)),
        ("2025-10-20T23:30:00-05:00", utc(2025, 10, 21, 4, 30)),
        ("2025-10-20 08:15 (Evening)", utc(2025, 10, 20, 8, 15)),
    ],
)
def test_it_reads_human_dates_in_the_date_field(written: str, expected: datetime) -> None:
    doc = parse(f"**Date:** {written}\n")

    assert (doc.created_at, doc.date_source) == (expected, "field")


@pytest.mark.parametrize(
    ("yaml_value", "expected"),
    [
        ("2025-10-20", utc(2025, 10, 20)),
        ("2025-10-20 14:30:00", utc(2025, 10, 20, 14, 30)),
        ("2025-10-20T21:15:00+03:00", utc(2025, 10, 20, 18, 15)),
        ('"October 20, 2025 (Evening)"', utc(2025, 10, 20, 19)),
    ],
)
def test_it_reads_yaml_dates_in_front_matter(yaml_value: str, expected: datetime) -> None:
    doc = parse(f"---\ndate: {yaml_value}\n---\n")

    assert (doc.created_at, doc.created_at.utcoffset()) == (expected, timedelta(0))


def test_it_sorts_sessions_of_one_day_by_time_of_day_word() -> None:
    words = ["Night", "Morning", "Evening", "Afternoon"]
    docs = [parse(f"**Date:** October 20, 2025 ({word})\n# {word}\n") for word in words]

    assert [d.title for d in sorted(docs, key=lambda d: d.created_at)] == [
        "Morning",
        "Afternoon",
        "Evening",
        "Night",
    ]


# --- The seed and the shipped samples ---------------------------------------------


def test_it_parses_the_seed() -> None:
    seed = SAMPLES / "annoris" / "2025-10-20-redis-strategy.md"

    doc = parse(seed.read_bytes(), path="annoris/2025-10-20-redis-strategy.md")

    assert doc.title == "REDIS STRATEGY + READY FOR PHASE 1"
    assert (doc.created_at, doc.date_source) == (utc(2025, 10, 20, 19), "field")
    assert doc.status.startswith("✅ Strategy finalized")
    assert (doc.next, doc.project, doc.priority) == ("Phase 1 Railway setup", "Annoris", "")
    assert doc.content.startswith("# 🚀 REDIS STRATEGY + READY FOR PHASE 1\n")
    assert '**Проблема "потом":**' in doc.content
    assert doc.repairs[0].startswith("mojibake: UTF-8 read as Mac Roman")


@pytest.mark.parametrize("path", SAMPLE_PATHS, ids=lambda p: p.relative_to(SAMPLES).as_posix())
def test_it_parses_every_sample(path: Path) -> None:
    relative = path.relative_to(SAMPLES).as_posix()

    doc = parse(path.read_bytes(), path=relative)

    assert doc.project in {"Annoris", "Pricewise", "Lingua Drift"}
    assert doc.created_at.date().isoformat() == path.name[:10]  # agrees with the file name
    assert doc.title and doc.status and doc.next
    assert "‚Ä" not in doc.content and "–ü" not in doc.content


def test_it_ships_three_projects_and_nine_sessions() -> None:
    assert len(SAMPLE_PATHS) == 9
    assert {p.parent.name for p in SAMPLE_PATHS} == {"annoris", "pricewise", "lingua-drift"}


def test_it_repairs_exactly_the_two_damaged_samples() -> None:
    repaired = {p.name for p in SAMPLE_PATHS if parse(p.read_bytes(), path=p.name).repairs}

    assert repaired == {"2025-10-20-redis-strategy.md", "2025-09-15-stripe-billing.md"}


def test_it_parses_the_mis_encoded_sample_back_to_the_original() -> None:
    path = SAMPLES / "pricewise" / "2025-09-15-stripe-billing.md"
    raw = path.read_bytes()

    doc = parse(raw, path="pricewise/2025-09-15-stripe-billing.md")

    # Damaging the parsed text again the same way gives back the file: nothing else changed.
    assert doc.content.encode("utf-8").decode("mac_roman").encode("utf-8") == raw
    assert doc.content.startswith("# 💳 PRICEWISE: STRIPE BILLING + TRIAL FLOW\n")
    assert "- «Чайная лавка» (Казань) — 140 SKU" in doc.content
    assert "| Starter  | €19/month |" in doc.content
    assert doc.status == "⚠️ Checkout works, webhooks half-done"
    assert doc.next == "Handle `invoice.payment_failed` → dunning emails"


def test_it_reads_the_sample_with_an_explicit_id() -> None:
    path = SAMPLES / "annoris" / "2025-10-22-webhook-hmac.md"

    doc = parse(path.read_bytes(), path="annoris/2025-10-22-webhook-hmac.md")

    assert doc.session_id == uuid.UUID("3f6c2a9e-8b41-4d7f-9a35-1c0e5b7d2f84")
    assert (doc.created_at, doc.date_source) == (utc(2025, 10, 22, 18, 15), "front_matter")
    assert doc.next == "Encryption key rotation (ANNORIS_ENCRYPTION_KEYS)"  # not the body's **Next:**


# -- hostile front matter: bounded memory and time (issue 9, items 2 and 7) ----------------

BILLION_LAUGHS = (
    "---\n"
    + "".join(f"l{n}: &l{n} [{', '.join([f'*l{n - 1}'] * 9)}]\n" if n else "l0: &l0 lol\n" for n in range(10))
    + "title: *l9\n---\n# Laughs\n"
)


def test_a_yaml_alias_bomb_fails_alone_at_once() -> None:
    started = datetime.now(UTC)
    assert "anchors or aliases" in rejection(BILLION_LAUGHS.encode())
    assert datetime.now(UTC) - started < timedelta(seconds=1)


@pytest.mark.parametrize(
    ("front", "reason"),
    [
        ("a: &x 1\nb: 2\n", "anchors or aliases"),
        ("a: 1\nb: *x\n", "aliases"),
        ("a: " + "[" * 5000 + "]" * 5000 + "\n", "nests too deeply"),
        ("a: [" + ", ".join(["1"] * 6000) + "]\n", "too many values"),
        ("a: '" + "x" * 70_000 + "'\n", "front matter too large"),
        ('title: "a\\0b"\n', "NUL"),
        ('title: "a\\ud800b"\n', "surrogate"),
        ("date: 0000-01-01\n", "cannot be read"),
    ],
)
def test_hostile_front_matter_is_refused_with_its_reason(front: str, reason: str) -> None:
    assert reason in rejection(f"---\n{front}---\n# T\n".encode())


@pytest.mark.parametrize("date", ["0001-01-01T00:00:00+05:00", "'0001-01-01T00:00:00+05:00'"])
def test_a_date_with_no_utc_equivalent_fails_the_file_with_the_reason(date: str) -> None:
    # Before: OverflowError escaped the parser (a 500 through the API).
    assert "out of range" in rejection(f"---\ndate: {date}\n---\n# T\n".encode())


def test_a_four_digit_year_is_read_as_written() -> None:
    # dateutil alone reads "January 1, 0001" as 2001.
    assert parse("# T\n\n**Date:** January 1, 0001\n").created_at == utc(1, 1, 1)
    assert parse("# T\n\n**Date:** 5 March 0099\n").created_at == utc(99, 3, 5)
    assert parse("# T\n\n**Date:** Oct 20 2025 (Evening)\n").created_at == utc(2025, 10, 20, 19)


def test_ordinary_front_matter_still_parses() -> None:
    doc = parse("---\ntitle: T\ntags: [a, b]\nmeta: {x: 1, y: [2, 3]}\ndate: 2025-10-20\n---\nbody\n")
    assert doc.title == "T" and doc.front_matter["meta"] == {"x": 1, "y": [2, 3]}
