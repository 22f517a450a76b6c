"""A real tokenizer for checking the token estimate: Claude's tokenizer.json from the anthropic
0.34.2 wheel (a test requirement), read with ``tokenizers``; no network needed.
"""

from __future__ import annotations

import importlib.util
from functools import lru_cache
from pathlib import Path

from tokenizers import Tokenizer


@lru_cache(maxsize=1)
def _tokenizer() -> Tokenizer:
    spec = importlib.util.find_spec("anthropic")
    assert spec is not None and spec.submodule_search_locations, "anthropic==0.34.2 is a test requirement"
    path = Path(next(iter(spec.submodule_search_locations))) / "tokenizer.json"
    return Tokenizer.from_str(path.read_text(encoding="utf-8"))


def real_tokens(text: str) -> int:
    return len(_tokenizer().encode(text).ids)
