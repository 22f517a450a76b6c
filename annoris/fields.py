"""Model fields for encrypted content."""

from __future__ import annotations

import struct
from typing import Any

from django.db import models

from annoris import crypto


class CiphertextField(models.TextField):
    """A text column that only ever stores ``annoris.crypto`` tokens.

    The field does not decrypt on load: rows travel (to the cache, through
    lists and rotation) in their encrypted form and are decrypted only when the
    content is read. Saving anything that is not a token raises, so plaintext
    cannot reach the column by mistake.
    """

    description = "AES-256-GCM ciphertext token"

    def get_prep_value(self, value: Any) -> Any:
        value = super().get_prep_value(value)
        if value not in (None, "") and not str(value).startswith(crypto.PREFIX):
            raise ValueError(f"{self.name} only stores ciphertext; encrypt the value first")
        return value


class HashSetField(models.Field):
    """A set of 64-bit keyed hashes, as a tuple of ints in Python.

    ``bigint[]`` on PostgreSQL, where ``column @> ARRAY[...]`` checks membership in SQL; a blob
    of big-endian 8-byte values elsewhere (SQLite), checked by a function the query registers.
    The values are hashes (see ``sessions_app.search.terms``), never words.
    """

    description = "set of 64-bit keyed hashes"

    def db_type(self, connection: Any) -> str:
        return "bigint[]" if connection.vendor == "postgresql" else "blob"

    def get_db_prep_value(self, value: Any, connection: Any, prepared: bool = False) -> Any:
        if value is None:
            return None
        values = list(value)
        if connection.vendor == "postgresql":
            return values
        return struct.pack(f">{len(values)}q", *values)

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> tuple[int, ...] | None:
        if value is None:
            return None
        if isinstance(value, list):
            return tuple(value)
        return struct.unpack(f">{len(value) // 8}q", bytes(value))

    def to_python(self, value: Any) -> Any:
        return tuple(value) if isinstance(value, list) else value
