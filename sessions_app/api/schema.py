"""The sessions API's OpenAPI description: parameters, headers and responses (drf-spectacular)."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse

from annoris.api.schema import ErrorSerializer, header
from sessions_app.api.filters import SessionFilters
from sessions_app.api.write_serializers import SessionWriteResultSerializer, SessionWriteSerializer

LIST_PARAMETERS = [
    SessionFilters,
    OpenApiParameter(
        "ordering", str, description="created_at, title, last_synced, priority or size; '-' for descending."
    ),
    OpenApiParameter("page_size", int, description="Sessions per page (1-200, default 50)."),
]
DETAIL_HEADERS = [
    header("ETag", "The document's git blob SHA, quoted.", [200, 304]),
    header(
        "X-Annoris-Source", "The layer that served the session: cache, database, github or local.", [200, 304]
    ),
    header("Server-Timing", "The read path's time, e.g. `cache;dur=0.41`.", [200, 304]),
]


IF_MATCH = OpenApiParameter(
    "If-Match",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=True,
    description="The session's `sha` (its ETag) as last read. Stale: 412; missing: 428.",
)
IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=False,
    description="Any unique string (1-255 ASCII characters). A retry with the same key and body returns "
    "the first answer and writes nothing; the same key with another body is a 422.",
)
ETAG = OpenApiParameter(
    "ETag",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    response=[200, 201],
    description='The new blob SHA, quoted (`"<sha>"`): the If-Match of the next write.',
)
REPLAYED = OpenApiParameter(
    "Idempotent-Replayed",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    response=[200, 201, 202, 204],
    description="`true` when this is the stored answer to an earlier request with the same Idempotency-Key.",
)
UUID = OpenApiParameter("id", OpenApiTypes.UUID, OpenApiParameter.PATH, description="The session id.")


def error(description: str) -> OpenApiResponse:
    return OpenApiResponse(ErrorSerializer, description=description)


COMMON_ERRORS = {
    400: error("The body is malformed (per-field errors)."),
    401: error("No or bad credentials."),
    403: error("The token cannot write (read scope)."),
    422: error(
        "The document cannot be written: a secret was found (the line and kind are named, never the "
        "value), the front matter is not YAML, the path is invalid, or the Idempotency-Key was reused "
        "with another body."
    ),
    502: error("GitHub refused the write for a reason retrying will not fix (credentials, branch)."),
    503: error("The database is unavailable."),
}
QUEUED = OpenApiResponse(
    SessionWriteResultSerializer,
    description="GitHub is unreachable, failing or rate limited: the write is stored in the outbox and "
    "will land in order; `outbox` describes the entry and `sha` is what the file will hold.",
)
SECRET_EXAMPLE = OpenApiExample(
    "Secret found",
    value={
        "detail": "The document holds what looks like a secret (content: line 3: GitHub Token). Remove or "
        "redact it (e.g. replace it with ***) and send it again.",
        "code": "secret_detected",
        "errors": {"content": ["line 3: GitHub Token"]},
    },
    response_only=True,
    status_codes=["422"],
)


def update_errors() -> dict[int, OpenApiResponse]:
    return {
        404: error("No live session with this id (or a queued write deletes it)."),
        412: error("If-Match is stale: the session (or its file at GitHub) changed since."),
        428: error("If-Match is missing."),
        **COMMON_ERRORS,
    }


UPDATE_SCHEMA = {
    "request": SessionWriteSerializer,
    "parameters": [UUID, IF_MATCH, IDEMPOTENCY_KEY, ETAG, REPLAYED],
    "responses": {
        200: OpenApiResponse(SessionWriteResultSerializer, description="Committed and stored."),
        202: QUEUED,
        **update_errors(),
    },
    "examples": [SECRET_EXAMPLE],
}
