"""The HTTP side of session writes: the write scope, ``Idempotency-Key`` replays, the answer.

The sessions viewset (``views.py``) validates the body and calls the services in
``sessions_app.writes``; their refusals carry their own status (``annoris.errors.DomainError``)
and the API's one exception handler answers them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request
from rest_framework.response import Response

from sessions_app import writes
from sessions_app.api.write_serializers import SessionWriteResultSerializer


class HasWriteScope(BasePermission):
    """Unsafe methods need a token with the ``write`` scope (tokens without a scope, and
    browser sessions, are let through: the default permission decides for those)."""

    message = "This token can only read; writing needs a token with the write scope."
    code = "read_only_token"

    def has_permission(self, request: Request, view: Any) -> bool:
        if request.method in SAFE_METHODS:
            return True
        scope = getattr(request.auth, "scope", None)
        return scope is None or scope == "write"


def who(request: Request) -> str:
    user = getattr(request, "user", None)
    return user.get_username() if user is not None and user.is_authenticated else ""


def answer(outcome: writes.WriteOutcome, success: int) -> Response:
    # A plain dict, not the serializer's ReturnDict: the browsable API would otherwise redraw its
    # form from this answer's fields (id, sha, outbox...) instead of the write fields.
    if outcome.queued is not None:
        return Response(dict(SessionWriteResultSerializer(outcome).data), status=202)
    headers = {"ETag": f'"{outcome.sha}"'} if outcome.sha else {}
    data = None if success == 204 else dict(SessionWriteResultSerializer(outcome).data)
    return Response(data, status=success, headers=headers)


def idempotent(request: Request, parts: tuple[Any, ...], run: Callable[[], Response]) -> Response:
    key = request.headers.get("Idempotency-Key")
    if key is None:
        return run()
    # Per token (a token's requests have no user row); per user for a browser session.
    token_id = getattr(request.auth, "token_id", None)
    owner = f"token:{token_id}" if token_id is not None else f"user:{request.user.pk}"
    claim = writes.idempotency_claim(owner=owner, key=key, fingerprint=writes.fingerprint(*parts))
    if isinstance(claim, writes.StoredAnswer):
        headers = {**claim.headers, "Idempotent-Replayed": "true"}
        return Response(claim.body, status=claim.status, headers=headers)
    try:
        response = run()
    except BaseException:
        writes.idempotency_release(claim)
        raise
    kept = {name: response[name] for name in ("ETag",) if response.has_header(name)}
    writes.idempotency_store(claim, writes.StoredAnswer(response.status_code, response.data, kept))
    return response
