"""AES-256-GCM encryption of session content at rest.

``ANNORIS_ENCRYPTION_KEYS`` is a comma-separated keyring of
``<key id>:<urlsafe base64 of 32 random bytes>``. The first key encrypts; every
key decrypts, so a key is rotated by putting the new one first, running
``manage.py rotate_keys`` and then dropping the old one.

A value is stored as the ASCII token ``enc:v1:<key id>:<urlsafe b64(nonce || ciphertext+tag)>``.
Keeping the key id in clear lets rotation find rows by prefix and lets an error
name the key that is missing. The key id is also bound into the GCM associated
data, so a token whose key id was edited fails to authenticate.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
from dataclasses import dataclass, field

import pybase64
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from annoris.errors import ConfigurationError

PREFIX = "enc:v1:"
_PREFIX_BYTES = PREFIX.encode()
NONCE_BYTES = 12  # 96-bit nonce, the size GCM is designed for
KEY_BYTES = 32  # AES-256
_KEY_ID = re.compile(r"^[A-Za-z0-9_.-]{1,32}$")

# Shipped so that a fresh checkout runs with nothing configured. Settings refuse
# it when DEBUG is off (see annoris/settings.py); never use it for real data.
DEVELOPMENT_KEY_ID = "dev-insecure"
DEVELOPMENT_KEYRING = f"{DEVELOPMENT_KEY_ID}:ZGV2ZWxvcG1lbnQta2V5LW5vdC1mb3ItcmVhbC1kYXQ"


# The configured keyring (or a key id given to generate_key) is malformed: a malformed
# environment variable, which settings and manage.py already report as ConfigurationError.
KeyringError = ConfigurationError


class DecryptionError(Exception):
    """A value cannot be decrypted: unknown key id, wrong key or tampering.

    ``wrong_key``: the key configured under the value's key id does not authenticate it
    (another key reuses that id, or the value was tampered with).
    """

    def __init__(self, message: str, *, wrong_key: bool = False) -> None:
        super().__init__(message)
        self.wrong_key = wrong_key


@dataclass(frozen=True)
class Keyring:
    """Ordered AES-256 keys; ``keys[0]`` encrypts, all decrypt."""

    keys: tuple[tuple[str, bytes], ...] = field(repr=False)  # never in a log line or an error

    def __post_init__(self) -> None:
        if not self.keys:
            raise KeyringError("ANNORIS_ENCRYPTION_KEYS is empty")
        # One cipher per key, made once: every read decrypts, and an AESGCM (and a dict of the
        # keys) made per call was part of the 9.5 -> 6.5 µs a decrypt gained (docs/benchmarks.md).
        object.__setattr__(self, "_ciphers", {key_id: AESGCM(key) for key_id, key in self.keys})
        seen: dict[str, str] = {}
        for key_id, _ in self.keys:
            other = seen.setdefault(key_id.casefold(), key_id)
            if other != key_id or sum(k == key_id for k, _ in self.keys) > 1:
                # Some databases compare text without case (SQLite's LIKE, MySQL collations):
                # ids equal but for case would let rotation mistake one key's rows for another's.
                named = (
                    f"{other!r} and {key_id!r}, which differ only in case"
                    if other != key_id
                    else f"{key_id!r} twice"
                )
                raise KeyringError(
                    f"ANNORIS_ENCRYPTION_KEYS names key id {named}; every key needs its own id "
                    "(ids are compared ignoring case). Give the new key a new id with "
                    "`manage.py generate_key --id <new id>`."
                )

    @property
    def primary_id(self) -> str:
        return self.keys[0][0]

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(key_id for key_id, _ in self.keys)

    def key(self, key_id: str) -> bytes | None:
        return dict(self.keys).get(key_id)

    def cipher(self, key_id: str) -> AESGCM | None:
        """The AES-GCM cipher of this key id, or None when the keyring has no such key."""
        ciphers: dict[str, AESGCM] = self._ciphers  # type: ignore[attr-defined]
        return ciphers.get(key_id)

    def __reduce__(self) -> tuple[type[Keyring], tuple[tuple[tuple[str, bytes], ...]]]:
        """Copied and pickled as its keys (the ciphers cannot be): made again, checked again."""
        return (Keyring, (self.keys,))


def parse_keyring(value: str) -> Keyring:
    """Parse ``id:b64key,id:b64key``; raise KeyringError naming the bad entry (never the key)."""
    entries = [item.strip() for item in value.split(",") if item.strip()]
    if not entries:
        raise KeyringError("ANNORIS_ENCRYPTION_KEYS is empty")
    keys: list[tuple[str, bytes]] = []
    for position, entry in enumerate(entries, start=1):
        key_id, sep, encoded = entry.partition(":")
        if not sep or not _KEY_ID.match(key_id):
            raise KeyringError(
                f"ANNORIS_ENCRYPTION_KEYS entry {position} must look like '<key id>:<base64 key>' "
                "with a key id of letters, digits, '.', '_' or '-'"
            )
        key = _decode_key(encoded, key_id)
        if key_id in dict(keys):
            raise KeyringError(f"ANNORIS_ENCRYPTION_KEYS names key id {key_id!r} twice")
        keys.append((key_id, key))
    return Keyring(tuple(keys))


def _decode_key(encoded: str, key_id: str) -> bytes:
    try:
        padded = encoded + "=" * (-len(encoded) % 4)
        key = base64.b64decode(padded, altchars=b"-_", validate=True)
    except (binascii.Error, ValueError):
        raise KeyringError(f"encryption key {key_id!r} is not valid urlsafe base64") from None
    if len(key) != KEY_BYTES:
        raise KeyringError(
            f"encryption key {key_id!r} decodes to {len(key)} bytes; AES-256 needs {KEY_BYTES}"
        )
    return key


def generate_key(key_id: str) -> str:
    """A new keyring entry ``<key_id>:<urlsafe base64 of 32 random bytes>``."""
    if not _KEY_ID.match(key_id):
        raise KeyringError("key id must be 1-32 letters, digits, '.', '_' or '-'")
    return f"{key_id}:{base64.urlsafe_b64encode(os.urandom(KEY_BYTES)).decode().rstrip('=')}"


def encrypt(plaintext: bytes, keyring: Keyring) -> bytes:
    """Encrypt under the primary key with a fresh random nonce; returns the ASCII token."""
    key_id = keyring.primary_id
    nonce = os.urandom(NONCE_BYTES)
    cipher = keyring.cipher(key_id)
    assert cipher is not None  # noqa: S101 - every key of a keyring has its cipher
    sealed = cipher.encrypt(nonce, plaintext, key_id.encode())
    return (PREFIX + key_id + ":").encode() + pybase64.urlsafe_b64encode(nonce + sealed)


def key_id_of(token: bytes | str) -> str:
    """The key id a token was encrypted under (raises DecryptionError if it is no token)."""
    data = token if isinstance(token, bytes) else token.encode("ascii", "replace")
    return _key_id(data)[0]


def _key_id(data: bytes) -> tuple[str, int]:
    """(the key id, where the payload starts), read in place: a token is ~15 KB, copied for nothing."""
    if not data.startswith(_PREFIX_BYTES):
        raise DecryptionError("value is not an Annoris ciphertext (missing 'enc:v1:' prefix)")
    start = len(_PREFIX_BYTES)
    end = data.find(b":", start)
    end = len(data) if end < 0 else end
    return data[start:end].decode("ascii", "replace"), end + 1


def decrypt(token: bytes | str, keyring: Keyring) -> bytes:
    """Decrypt a token; raise DecryptionError naming the key id, never return garbage."""
    data = token if isinstance(token, bytes) else token.encode("ascii", "replace")
    key_id, payload = _key_id(data)
    cipher = keyring.cipher(key_id)
    if cipher is None:
        raise DecryptionError(f"no key with id {key_id!r} in ANNORIS_ENCRYPTION_KEYS")
    try:
        # pybase64 (SIMD): 2.6 µs where the standard library took 50 µs for a 10 KB session, most of
        # a cache-hit read's decryption. validate=True: a character outside the urlsafe alphabet is
        # an error, where the standard library would have skipped it. Views, not slices: no copies.
        raw = memoryview(pybase64.b64decode(memoryview(data)[payload:], altchars=b"-_", validate=True))
        return cipher.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], key_id.encode())
    except (InvalidTag, binascii.Error, ValueError):
        raise DecryptionError(
            f"value under key {key_id!r} failed authentication: wrong key or tampered data", wrong_key=True
        ) from None
