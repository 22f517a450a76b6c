"""Session documents: parse the raw bytes of a session file into its fields.

Pure Python (no Django): the sync engine, the API and the tests all use this package.
"""

from __future__ import annotations

from .encoding import repair_mojibake
from .errors import MAX_DOCUMENT_BYTES, DocumentError
from .parser import ParsedDocument, parse_document
from .state import STATES, derive_state

__all__ = [
    "MAX_DOCUMENT_BYTES",
    "STATES",
    "DocumentError",
    "ParsedDocument",
    "derive_state",
    "parse_document",
    "repair_mojibake",
]
