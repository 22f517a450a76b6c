"""Read shapes of sessions for the API (writes have their own serializers)."""

from __future__ import annotations

import functools
from typing import Any

from django.urls import get_script_prefix, reverse
from drf_spectacular.utils import extend_schema_serializer
from rest_framework import serializers

from sessions_app.models import Session, SessionState
from sessions_app.summary import iso as _iso
from sessions_app.summary import session_summary


# Schema names: "SessionSummary" (a list's row; its page is "PaginatedSessionSummaryList", not
# "PaginatedSessionListList") and "SessionDetail" (set again: the subclass would inherit the name).
@extend_schema_serializer(component_name="SessionSummary")
class SessionListSerializer(serializers.Serializer):
    """A session without its document: what a list shows.

    A plain Serializer with a hand-written ``to_representation``: the fields below
    describe the shape (and the OpenAPI schema); building the dict directly costs a
    fraction of DRF's per-field machinery on the hot read path (issue #7).
    """

    id = serializers.UUIDField()
    title = serializers.CharField()
    project = serializers.CharField(allow_null=True, help_text="The project's name.")
    status = serializers.CharField(help_text="The status as written in the document.")
    state = serializers.ChoiceField(choices=SessionState.choices)
    priority = serializers.CharField()
    next = serializers.CharField(help_text="The next step the document names.")
    created_at = serializers.DateTimeField()
    path = serializers.CharField(help_text="Path of the file in the repository.")
    sha = serializers.CharField(help_text="Git blob SHA of the file (the ETag).")
    size = serializers.IntegerField(help_text="Size of the document in bytes (UTF-8).")
    last_synced = serializers.DateTimeField()
    url = serializers.URLField(help_text="This session in the API.")

    def to_representation(self, instance: Session) -> dict[str, Any]:
        return list_representation(instance, self.context.get("request"))


@extend_schema_serializer(component_name="SessionDetail")
class SessionDetailSerializer(SessionListSerializer):
    """A session with its checksum and decrypted document (``content``)."""

    checksum = serializers.CharField(help_text="Keyed checksum (HMAC-SHA256, 32 hex) of the document.")
    deleted_at = serializers.DateTimeField(allow_null=True)
    content = serializers.CharField(help_text="The markdown document.")

    def to_representation(self, instance: Session) -> dict[str, Any]:
        return detail_representation(instance, self.context.get("request"))


def list_representation(instance: Session, request: Any = None) -> dict[str, Any]:
    """``SessionListSerializer(instance).data`` as a plain dict, without building a serializer."""
    data = _fields_before_url(instance)
    data["url"] = _absolute(detail_path(instance.id), request)
    return data


def detail_representation(instance: Session, request: Any = None) -> dict[str, Any]:
    """``SessionDetailSerializer(instance).data`` as a plain dict, without building a serializer
    (a serializer instance costs ~20 µs of DRF bookkeeping on a cache-hit read). Decrypts the
    document: raises annoris.crypto.DecryptionError."""
    data = _fields_before_url(instance)
    data["url"] = _absolute(detail_path(instance.id), request)
    data["checksum"] = instance.checksum
    data["deleted_at"] = _iso(instance.deleted_at)
    data["content"] = instance.text
    return data


def _fields_before_url(instance: Session) -> dict[str, Any]:
    return {**session_summary(instance), "size": instance.size, "last_synced": _iso(instance.last_synced)}


def _absolute(path: str, request: Any) -> str:
    return request.build_absolute_uri(path) if request is not None else path


_MARK = "00000000-0000-0000-0000-000000000000"


def detail_path(session_id: Any) -> str:
    """``reverse("session-detail", args=[id])``, resolved once per script prefix (~40 µs saved a row)."""
    head, tail = _detail_parts(get_script_prefix())
    return f"{head}{session_id}{tail}"


@functools.lru_cache(maxsize=16)
def _detail_parts(prefix: str) -> tuple[str, str]:
    """What comes before and after the id in a session's URL under ``prefix`` (a pure function)."""
    head, _, tail = reverse("session-detail", args=[_MARK]).partition(_MARK)
    return head, tail
