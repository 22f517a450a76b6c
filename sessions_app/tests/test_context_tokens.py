"""The token estimate never undercounts a real tokenizer on the samples and generated corpora."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sessions_app.context.tokens import count_tokens
from sessions_app.documents.parser import decode_document
from sessions_app.tests.real_tokenizer import real_tokens

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))
from corpus import make_corpus  # noqa: E402 - bench/ is not a package

SAMPLES = [decode_document(p.read_bytes())[0] for p in sorted((ROOT / "samples" / "sessions").rglob("*.md"))]
CORPUS = [data.decode() for data in make_corpus(60, seed=8, size=5000).values()]


def pieces(text: str) -> list[str]:
    """The text, its paragraphs and its lines: what the context cuts sessions into."""
    return [text, *(p for p in text.split("\n\n") if p.strip()), *(line for line in text.split("\n") if line)]


@pytest.mark.parametrize("text", SAMPLES + CORPUS[:20])
def test_it_never_counts_fewer_tokens_than_the_real_tokenizer(text: str) -> None:
    for piece in pieces(text):
        assert count_tokens(piece) >= real_tokens(piece), piece[:80]


def test_its_worst_overcount_on_the_samples_is_bounded() -> None:
    ratios = [count_tokens(text) / real_tokens(text) for text in SAMPLES + CORPUS]
    assert 1.0 <= min(ratios) and max(ratios) < 1.7  # README: "Context and next steps"


@given(st.lists(st.text(max_size=80), min_size=1, max_size=6))
def test_it_is_subadditive(parts: list[str]) -> None:
    assert count_tokens("".join(parts)) <= sum(count_tokens(part) for part in parts)


def test_it_counts_nothing_as_nothing() -> None:
    assert count_tokens("") == 0
