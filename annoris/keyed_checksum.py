"""The session checksum, keyed: HMAC-SHA256 of the plaintext under a key derived from the
primary encryption key (issue #20, smaller findings).

The schema asks for a checksum of each document. An MD5 of the plaintext let anyone holding
the database confirm a guessed document (hash the guess, compare); a keyed hash confirms
nothing without the key. The key is derived with HKDF from the primary key of
``ANNORIS_ENCRYPTION_KEYS`` (its own ``info``, so it is unrelated to the search index key)
and never stored; 128 bits of the HMAC fill the 32-hex column the MD5 held.
"""

from __future__ import annotations

import hashlib
import hmac
from functools import lru_cache

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

_HKDF_INFO = b"annoris/checksum/v1"


def keyed_checksum(text: str) -> str:
    """32 hex characters: HMAC-SHA256(checksum key, UTF-8 of ``text``), cut to 128 bits."""
    _, key = settings.ANNORIS_KEYRING.keys[0]
    return hmac.new(_derive(key), text.encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()[:32]


@lru_cache(maxsize=8)
def _derive(key: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_HKDF_INFO).derive(key)
