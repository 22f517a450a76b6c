"""Encrypt and decrypt text with the keyring from settings.

A thin Django-aware layer over ``annoris.crypto``: the keyring is parsed once in
settings (``ANNORIS_KEYRING``), and ``override_settings`` swaps it in tests.
"""

from __future__ import annotations

from django.conf import settings

from annoris import crypto


def encrypt_text(text: str) -> str:
    """Encrypt ``text`` (UTF-8) under the primary key; returns the stored token."""
    return crypto.encrypt(text.encode("utf-8"), settings.ANNORIS_KEYRING).decode("ascii")


def decrypt_text(token: str) -> str:
    """Decrypt a stored token back to text; raises crypto.DecryptionError."""
    return crypto.decrypt(token, settings.ANNORIS_KEYRING).decode("utf-8")


def primary_key_id() -> str:
    return settings.ANNORIS_KEYRING.primary_id
