"""The limits and the one error of session-document parsing and editing."""

from __future__ import annotations

__all__ = ["MAX_DOCUMENT_BYTES", "DocumentError"]

# Sessions are text notes of a few kilobytes; anything past this is not one.
MAX_DOCUMENT_BYTES = 1_000_000


class DocumentError(ValueError):
    """A file that cannot be turned into a session, or an edit that cannot be made to one
    (``edits.EditError`` is this class).

    The message says why in one line, e.g. ``'binary file'``,
    ``'not valid UTF-8 at byte 1234'`` or
    ``'file too large (10485760 bytes, limit 1000000)'``; callers record it as is.
    """
