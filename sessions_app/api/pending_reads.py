"""GET of a session that exists only as a create waiting in the outbox (issue #20, finding 11).

Asked only when the read path found nothing (404) or could not look (503), so an ordinary
read costs nothing more. The answer is the queued document, ``"pending": true``, with
``X-Annoris-Source: outbox`` and the ETag the file will have (the next If-Match).
"""

from __future__ import annotations

from django.db import DatabaseError
from django.urls import reverse
from rest_framework.request import Request
from rest_framework.response import Response

from annoris.api.errors import api_error
from annoris.crypto import DecryptionError
from sessions_app.writes import pending


def pending_or(request: Request, session_id: str, answer: Response) -> Response:
    """The queued create of ``session_id``, else the read path's ``answer``."""
    try:
        entry = pending.queued_create(session_id)
    except DatabaseError:  # the database is what is down (the 503): its answer stands
        return answer
    if entry is None:
        return answer
    headers = {"ETag": f'"{entry.content_sha}"', "X-Annoris-Source": "outbox", "X-Annoris-Pending": "true"}
    try:
        text_only = request.accepted_renderer.format == "md"
        url = request.build_absolute_uri(reverse("session-detail", args=[session_id]))
        data = pending.representation(entry, url)
    except DecryptionError:
        return api_error(
            422, "The queued session cannot be decrypted with the configured keys.", code="undecryptable"
        )
    return Response(data["content"] if text_only else data, headers=headers)
