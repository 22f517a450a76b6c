"""The body of a small edit: ``PATCH /api/sessions/{id}/`` with ``{"edit": {...}}`` (issue #15)."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from sessions_app import writes
from sessions_app.documents import MAX_DOCUMENT_BYTES


class SessionEditSerializer(serializers.Serializer):
    """One edit of the document, made without resending it: exactly one of ``append``,
    ``replace_with`` or ``check_step``. The front matter and every line not edited stay byte for byte."""

    append = serializers.CharField(
        required=False, trim_whitespace=False, max_length=MAX_DOCUMENT_BYTES,
        help_text="A paragraph to add after a blank line: at the end, or at the end of `section`.",
    )  # fmt: skip
    section = serializers.CharField(
        required=False, max_length=300,
        help_text="A heading's words (any level, any case), e.g. `Decided`: where `append` goes, or the "
        "section `replace_with` replaces (up to the next heading of the same or a higher level).",
    )  # fmt: skip
    replace_with = serializers.CharField(
        required=False, allow_blank=True, trim_whitespace=False, max_length=MAX_DOCUMENT_BYTES,
        help_text="The new text under the heading `section` (the heading line stays).",
    )  # fmt: skip
    check_step = serializers.CharField(
        required=False, max_length=300,
        help_text="An open next step's words: its `- [ ]` becomes `- [x]` (a plain item gets ` ✅`).",
    )  # fmt: skip

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        problem = writes.Edit(**attrs).problem()
        if problem:
            raise serializers.ValidationError(problem)
        return attrs
