"""Mojibake repair: UTF-8 read as Mac Roman or cp1252 and saved again (no Django needed)."""

from __future__ import annotations

from pathlib import Path

import ftfy
import pytest

from sessions_app.documents import repair_mojibake

SAMPLES = Path(__file__).resolve().parents[2] / "samples" / "sessions"
SEED = SAMPLES / "annoris" / "2025-10-20-redis-strategy.md"
DAMAGED_SAMPLES = {SEED.name, "2025-09-15-stripe-billing.md"}

CORRECT_MIXED_TEXT = (
    "# 🚀 Итоги дня — “Phase 1” готова ✅\r\n"
    "**Статус:** «Ёлка» зелёная, café naïve, €5 ½ price, 10°C, ±2%…\r\n"
    "- Проблема: 👨‍💻 ZWJ-эмодзи, 1️⃣ keycap, ═══ рамка, → стрелка\r\n"
    "Ещё текст: РџСЂРёРІРµС‚ is cp1251 mojibake written on purpose, as Cyrillic.\n"
)


def mac_roman_damage(text: str) -> str:
    """What happens to UTF-8 text opened as Mac Roman and saved again."""
    return text.encode("utf-8").decode("mac_roman")


def cp1252_damage(text: str) -> str:
    """What happens to UTF-8 text opened as cp1252 (undefined bytes kept as C1 controls)."""
    return "".join(
        chr(byte) if byte in (0x81, 0x8D, 0x8F, 0x90, 0x9D) else bytes([byte]).decode("cp1252")
        for byte in text.encode("utf-8")
    )


@pytest.fixture(scope="module")
def seed_text() -> str:
    return SEED.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def repaired_seed(seed_text: str) -> str:
    return repair_mojibake(seed_text)[0]


def test_it_restores_the_seed_heading_emoji(repaired_seed: str) -> None:
    assert repaired_seed.startswith("# 🚀 REDIS STRATEGY + READY FOR PHASE 1\n")


@pytest.mark.parametrize(
    "expected",
    [
        '**Проблема "потом":**',
        '- "Потом добавим Redis" = забудем контекст',
        "**Status:** ✅ Strategy finalized, ready to build!",
        "- ✅ €214/month за Claude >> $5 за Redis",
        "→ Сейчас: НЕ активирован = $0/month",
        "Redis:       $0/month  ⏸️ READY (not activated)",
        "─────────────────────\nTotal:       $10/month",
        "## 🏗️ PHASE 1 ARCHITECTURE:",
        '*"Код сразу целостный, Redis включим когда надо!"* 🚀💎',
    ],
)
def test_it_restores_the_seed_cyrillic_emoji_and_symbols(repaired_seed: str, expected: str) -> None:
    assert expected in repaired_seed


@pytest.mark.parametrize("marker", ["‚Ä", "√", "üöÄ", "–ü", "—Ä", "‚úÖ", "‚Üí", "Ô∏è", "‚îÄ", "‚Ç¨"])
def test_it_leaves_no_mac_roman_markers_in_the_seed(repaired_seed: str, marker: str) -> None:
    assert marker not in repaired_seed


def test_it_repairs_the_seed_exactly_like_reversing_the_damage(seed_text: str, repaired_seed: str) -> None:
    # The seed is damaged throughout, so undoing the damage on the whole file is the truth.
    assert repaired_seed == seed_text.encode("mac_roman").decode("utf-8")


def test_it_notes_the_code_page_and_the_count(seed_text: str) -> None:
    _, note = repair_mojibake(seed_text)

    assert note is not None
    assert note.startswith("mojibake: UTF-8 read as Mac Roman, ")
    assert note.endswith(" characters repaired")


def test_it_does_not_change_the_repaired_seed_again(repaired_seed: str) -> None:
    assert repair_mojibake(repaired_seed) == (repaired_seed, None)


def test_it_leaves_correct_mixed_text_unchanged() -> None:
    assert repair_mojibake(CORRECT_MIXED_TEXT) == (CORRECT_MIXED_TEXT, None)


@pytest.mark.parametrize(
    "path",
    sorted(p for p in SAMPLES.rglob("*.md") if p.name not in DAMAGED_SAMPLES),
    ids=lambda p: p.name,
)
def test_it_leaves_every_correct_sample_unchanged(path: Path) -> None:
    text = path.read_text(encoding="utf-8")

    assert repair_mojibake(text) == (text, None)


def test_it_leaves_a_lone_coincidence_in_correct_text_alone() -> None:
    text = "Une phrase française —école, sans espace."
    assert "—é".encode("mac_roman").decode("utf-8") == "ю"  # the coincidence is real

    assert repair_mojibake(text) == (text, None)


def test_it_repairs_mac_roman_damage_of_the_correct_mixed_text() -> None:
    repaired, note = repair_mojibake(mac_roman_damage(CORRECT_MIXED_TEXT))

    assert repaired == CORRECT_MIXED_TEXT
    assert note is not None and "Mac Roman" in note


def test_it_repairs_only_the_damaged_part_of_partly_damaged_text() -> None:
    correct = "Правильный текст — «как есть» ✅\n"
    damaged = mac_roman_damage("**Статус:** ✅ готово 🚀\n")

    repaired, _ = repair_mojibake(correct + damaged)

    assert repaired == correct + "**Статус:** ✅ готово 🚀\n"


def test_it_keeps_crlf_line_endings() -> None:
    repaired, _ = repair_mojibake(mac_roman_damage("Привет 🚀\r\nмир ✅\r\n"))

    assert repaired == "Привет 🚀\r\nмир ✅\r\n"


def test_it_repairs_cp1252_mojibake() -> None:
    damaged = "cafÃ© â€” naÃ¯ve â€œquotesâ€\x9d ðŸš€ ÐŸÑ€Ð¸Ð²ÐµÑ‚, â‚¬5"

    repaired, note = repair_mojibake(damaged)

    assert repaired == "café — naïve “quotes” 🚀 Привет, €5"
    assert note is not None and "cp1252" in note
    assert repaired == ftfy.fix_encoding(damaged)  # ftfy agrees on the cp1252 case


def test_it_repairs_cp1252_damage_of_the_correct_mixed_text() -> None:
    assert repair_mojibake(cp1252_damage(CORRECT_MIXED_TEXT))[0] == CORRECT_MIXED_TEXT


def test_it_repairs_latin_1_mojibake() -> None:
    damaged = CORRECT_MIXED_TEXT.encode("utf-8").decode("latin-1")

    assert repair_mojibake(damaged)[0] == CORRECT_MIXED_TEXT


def test_it_leaves_plain_ascii_unchanged() -> None:
    text = "# Plain notes\n\n**Date:** 2025-10-20\n```\ncode\n```\n"

    assert repair_mojibake(text) == (text, None)
