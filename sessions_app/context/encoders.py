"""The three real tokenizers Annoris counts with, loaded offline once per process.

- ``cl100k_base`` and ``o200k_base`` (OpenAI): tiktoken's own encodings. Their rank files
  come from the ``bpe-openai`` wheel (it ships both, gzipped); they are put where tiktoken
  looks for its cache, after checking the SHA-256 tiktoken pins for them, and tiktoken
  checks it again as it loads them. Nothing is downloaded.
- ``claude``: the ``tokenizer.json`` shipped in the ``anthropic`` 0.34.2 wheel (NFKC, GPT-2
  byte-level pre-tokenizer, 64,739 BPE merges), loaded into a tiktoken ``Encoding`` whose
  ranks are the merges' order. It counts exactly as Hugging Face ``tokenizers`` does with
  that file (checked in ``sessions_app/tests/test_context_tokens.py``), about nine times
  faster: 0.09 s for 1 MB instead of 0.8 s, which keeps a context cut within its 200 ms.
"""

from __future__ import annotations

import gzip
import hashlib
import importlib.util
import json
import os
import re
import tempfile
import threading
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import tiktoken
from tiktoken.load import check_hash

__all__ = ["Encoder", "encoders"]

# The URL tiktoken names each file by (its cache key) and the SHA-256 it expects, both as
# tiktoken_ext/openai_public.py (tiktoken 0.14.0) has them.
_OPENAI = {
    "cl100k_base": "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7",
    "o200k_base": "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d",
}
_BLOB_URL = "https://openaipublic.blob.core.windows.net/encodings/{name}.tiktoken"
# The ByteLevel pre-tokenizer's regex: GPT-2's, as Hugging Face tokenizers writes it.
_GPT2_PATTERN = r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"""
_LOCK = threading.Lock()
# Characters Python's NFKC (Unicode 14 in 3.11) maps but Hugging Face tokenizers' NFKC leaves as
# they are (its tables predate Unicode 12.1): the segmented digits 🯰-🯹, the Reiwa square, the
# Latin modifier letters of Unicode 13-14. Normalising them made a count lower than Claude's
# ("Ä🯰": 3 tokens for a real 5). Found by comparing both normalisers over every code point.
_NFKC_NEWER = re.compile("([\u32ff\ua7f2-\ua7f4\uab69\U00010781-\U00010785\U00010787-\U000107b0"
                         "\U000107b2-\U000107ba\U0001f16c\U0001fbf0-\U0001fbf9])")  # fmt: skip


@dataclass(frozen=True)
class Encoder:
    """One tokenizer: ``name``, and whether text is NFKC-normalised before it is encoded."""

    name: str
    encoding: tiktoken.Encoding
    nfkc: bool = False

    def encode(self, text: str) -> list[int]:
        """Token ids of ``text``; special-token strings are ordinary text (they cost more, never less)."""
        if self.nfkc and not unicodedata.is_normalized("NFKC", text):
            text = "".join(
                piece if i % 2 else unicodedata.normalize("NFKC", piece)
                for i, piece in enumerate(_NFKC_NEWER.split(text))  # odd pieces: the kept characters
            )
        return self.encoding.encode_ordinary(text)

    def count(self, text: str) -> int:
        return len(self.encode(text))


@lru_cache(maxsize=1)
def encoders() -> tuple[Encoder, ...]:
    """cl100k_base, o200k_base and Claude's, loaded once (about 1 s, on the first count)."""
    with _LOCK:
        return (*(Encoder(name, _openai(name)) for name in _OPENAI), Encoder("claude", _claude(), nfkc=True))


def _openai(name: str) -> tiktoken.Encoding:
    url = _BLOB_URL.format(name=name)
    target = _tiktoken_cache_dir() / hashlib.sha1(url.encode()).hexdigest()  # tiktoken's cache key
    if not target.exists() or not check_hash(target.read_bytes(), _OPENAI[name]):
        data = gzip.decompress((_package_dir("bpe_openai") / "data" / f"{name}.tiktoken.gz").read_bytes())
        if not check_hash(data, _OPENAI[name]):
            raise RuntimeError(f"bpe-openai's {name} file is not the one tiktoken expects")
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(f"{target.name}.{os.getpid()}.tmp")
        partial.write_bytes(data)
        partial.replace(target)
    return tiktoken.get_encoding(name)


def _package_dir(name: str) -> Path:
    """A package's folder, found without importing it (bpe-openai's import loads a 74 MB library)."""
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(f"{name} is not installed; see requirements.txt")
    return Path(next(iter(spec.submodule_search_locations)))


def _tiktoken_cache_dir() -> Path:
    """Where tiktoken reads its cached files from (tiktoken.load.read_file_cached's rule)."""
    configured = os.environ.get("TIKTOKEN_CACHE_DIR") or os.environ.get("DATA_GYM_CACHE_DIR")
    return Path(configured) if configured else Path(tempfile.gettempdir()) / "data-gym-cache"


def _claude() -> tiktoken.Encoding:
    data = json.loads((_package_dir("anthropic") / "tokenizer.json").read_text(encoding="utf-8"))
    byte_of = {char: byte for byte, char in _gpt2_byte_chars().items()}
    ranks = {bytes([byte]): byte for byte in range(256)}
    for rank, merge in enumerate(data["model"]["merges"], start=256):
        left, right = merge.split(" ")
        ranks.setdefault(bytes(byte_of[char] for char in left + right), rank)
    return tiktoken.Encoding("claude", pat_str=_GPT2_PATTERN, mergeable_ranks=ranks, special_tokens={})


def _gpt2_byte_chars() -> dict[int, str]:
    """GPT-2's byte -> printable character table, which byte-level BPE vocabularies are written in."""
    printable = [*range(0x21, 0x7F), *range(0xA1, 0xAD), *range(0xAE, 0x100)]  # "!".."~", "¡".."¬", "®".."ÿ"
    table = {byte: chr(byte) for byte in printable}
    shifted = (byte for byte in range(256) if byte not in table)
    for offset, byte in enumerate(shifted):
        table[byte] = chr(256 + offset)
    return table
