"""Model fields for encrypted content."""

from __future__ import annotations

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
