"""Counting as the models count: the largest of cl100k_base, o200k_base and Claude's tokenizer.

On the samples, the generated corpora and documents in every script the tests can make
(issue #20 finding 10: Thai, CJK, Arabic, Devanagari, emoji, symbols, random words), the
context's count is never below the largest real count, its reported total at most 10% above
it, and its cut is linear (finding 1).
"""

from __future__ import annotations

import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sessions_app.context.compose import ContextSession, compose_context
from sessions_app.context.encoders import encoders
from sessions_app.context.tokens import count_tokens, count_within, prefix_within
from sessions_app.documents.parser import decode_document
from sessions_app.tests.real_tokenizer import claude_tokens, real_counts, real_tokens
from sessions_app.tests.scripts import SCRIPTS, document

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))
from corpus import make_corpus  # noqa: E402 - bench/ is not a package

SAMPLES = [decode_document(p.read_bytes())[0] for p in sorted((ROOT / "samples" / "sessions").rglob("*.md"))]
CORPUS = [data.decode() for data in make_corpus(20, seed=8, size=5000).values()]
SCRIPT_DOCS = [document(script, 6000, seed) for script in SCRIPTS for seed in range(2)]
EVERYTHING = SAMPLES + CORPUS + SCRIPT_DOCS


@pytest.mark.parametrize("text", EVERYTHING, ids=lambda t: t[:24])
def test_it_counts_exactly_the_largest_real_count(text: str) -> None:
    assert count_tokens(text) == real_tokens(text)


@pytest.mark.parametrize("text", SAMPLES + SCRIPT_DOCS, ids=lambda t: t[:24])
def test_its_claude_port_counts_as_hugging_face_tokenizers_does(text: str) -> None:
    claude = next(encoder for encoder in encoders() if encoder.name == "claude")
    for piece in (text, *text.split("\n\n")[:20]):
        assert claude.count(piece) == claude_tokens(piece)


@pytest.mark.parametrize("text", ["Ä🯰", "🯰🯹 12", "㋿ era", "ꟲꟳꟴ ꭩ", "𐞁𐞂 x", "🅬 y", "ﬁ ½ 𝐀"])
def test_its_claude_port_normalises_as_hugging_face_tokenizers_does(text: str) -> None:
    """Python's NFKC knows newer Unicode than the tokenizer's: what it maps and the tokenizer
    does not (🯰 -> 0) is counted as the tokenizer counts it; the rest (ﬁ -> fi) is normalised."""
    claude = next(encoder for encoder in encoders() if encoder.name == "claude")
    assert claude.count(text) == claude_tokens(text)


@given(st.text(max_size=400))
@settings(max_examples=300, deadline=None)
def test_it_is_never_below_a_real_count_on_arbitrary_text(text: str) -> None:
    assert count_tokens(text) >= max(real_counts(text).values())


def _sessions(texts: list[str]) -> list[ContextSession]:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    return [
        ContextSession(
            id=str(i),
            title=text.split("\n", 1)[0].lstrip("# ")[:80],
            created_at=start - timedelta(days=i),
            state="done",
            next="",
            url=f"annoris://sessions/{i}",
            text=text,
        )
        for i, text in enumerate(texts)
    ]


@pytest.mark.parametrize("script", SCRIPTS)
@pytest.mark.parametrize("budget", [500, 2_500, 8_000])
def test_a_context_in_any_script_stays_within_budget_and_reports_within_ten_percent(
    script: str, budget: int
) -> None:
    texts = [document(script, 9000, seed) for seed in range(6)]
    result = compose_context(
        header=f"# Context: {script}", steps=[], sessions=_sessions(texts), budget_tokens=budget
    )
    counts = real_counts(result.markdown)
    assert max(counts.values()) <= result.tokens <= budget, counts
    assert result.tokens <= 1.10 * max(counts.values()), (result.tokens, counts)
    assert result.tokens >= 0.85 * budget  # there is material for more than the budget


@given(st.text(min_size=1, max_size=3000), st.integers(min_value=1, max_value=600))
@settings(max_examples=150, deadline=None)
def test_prefix_within_is_a_prefix_within_the_room(text: str, room: int) -> None:
    prefix = prefix_within(text, room)
    assert text.startswith(prefix)
    assert real_tokens(prefix) <= room
    if count_tokens(text) <= room:
        assert prefix == text


@given(st.text(max_size=3000), st.integers(min_value=0, max_value=400))
@settings(max_examples=100, deadline=None)
def test_count_within_is_exact_under_its_limit_and_above_it_otherwise(text: str, limit: int) -> None:
    exact = count_tokens(text)
    assert count_within(text, limit) == exact if exact <= limit else count_within(text, limit) > limit


@pytest.mark.parametrize("budget", [2_500, 20_000, 50_000])
def test_cutting_a_one_megabyte_session_is_linear(budget: int) -> None:
    """Issue #20 finding 1: 'w ' * 490000 took 8 s at 10k tokens and 32 s at 20k (quadratic)."""
    encoders()  # loading the tokenizers is not the cut
    session = _sessions(["w " * 490_000])
    started = time.perf_counter()
    result = compose_context(header="# Context: big", steps=[], sessions=session, budget_tokens=budget)
    elapsed = time.perf_counter() - started
    assert result.cut == ["0"] and "w w w" in result.markdown
    assert real_tokens(result.markdown) <= result.tokens <= budget
    assert result.tokens >= 0.85 * budget
    assert elapsed < 1.5, f"{elapsed:.2f} s"  # 200 ms on a quiet machine (bench/context_cut.py)


def test_it_counts_nothing_as_nothing() -> None:
    assert count_tokens("") == 0
