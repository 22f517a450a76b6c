"""OpenAPI helpers (drf-spectacular): the error component, shared responses, schema views.

Every operation gets the error responses it can give (401, 403, 404 with a path id,
400/413/415 with a body, 406, 429, 503) from :func:`add_error_responses`, a
post-processing hook, so a view's ``@extend_schema`` only declares what is special to it.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.renderers import OpenApiJsonRenderer2, OpenApiYamlRenderer, OpenApiYamlRenderer2
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework import serializers

ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "The one error shape of the API.",
    "properties": {
        "detail": {"type": "string", "description": "What went wrong, in one sentence."},
        "code": {"type": "string", "description": "A machine-readable code, e.g. `not_found`, `invalid`."},
        "errors": {
            "type": "object",
            "description": "Messages per field (`non_field_errors` for the whole body); may be empty.",
            "additionalProperties": {"type": "array", "items": {"type": "string"}},
        },
    },
    "required": ["detail", "code", "errors"],
}
ERROR_REF = {"$ref": "#/components/schemas/Error"}

DESCRIPTIONS = {
    304: "Not modified.",
    400: "Malformed input (the `errors` object names the fields).",
    401: "No credentials, or an invalid, revoked or expired token.",
    403: "The token's scope does not allow this (a read token on a write), or CSRF failed.",
    404: "Not found.",
    405: "Method not allowed.",
    406: "The requested format is not offered.",
    409: "Conflict.",
    412: "Precondition failed.",
    413: "The request body is over the size limit.",
    415: "Unsupported media type (send JSON).",
    422: "Unprocessable.",
    428: "Precondition required.",
    429: "Too many requests for this token; see Retry-After.",
    503: "A dependency (database, GitHub) is unavailable; see Retry-After.",
}
RETRY_AFTER = {"Retry-After": {"schema": {"type": "integer"}, "description": "Seconds to wait."}}
WWW_AUTHENTICATE = {"WWW-Authenticate": {"schema": {"type": "string"}, "description": "The auth scheme."}}


class ErrorSerializer(serializers.Serializer):
    """The error shape, for ``@extend_schema`` (component ``Error``)."""

    detail = serializers.CharField()
    code = serializers.CharField()
    errors = serializers.DictField(child=serializers.ListField(child=serializers.CharField()))

    class Meta:
        ref_name = "Error"


def error_responses(*statuses: int) -> dict[int, OpenApiResponse]:
    """``{status: OpenApiResponse(Error)}`` for ``@extend_schema(responses=...)``."""
    return {
        status: OpenApiResponse(ErrorSerializer, description=DESCRIPTIONS.get(status, ""))
        for status in statuses
    }


def header(name: str, description: str, statuses: list[int] | bool = True) -> OpenApiParameter:
    """A response header (for ``@extend_schema(parameters=[...])``) sent with ``statuses``."""
    return OpenApiParameter(
        name, OpenApiTypes.STR, OpenApiParameter.HEADER, description=description, response=statuses
    )


def add_error_responses(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    """POSTPROCESSING_HOOK: give every operation the error responses it can answer."""
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    for path, item in result.get("paths", {}).items():
        for method, operation in item.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            for status in _statuses(path, method, operation):
                _add(operation["responses"], status)
    return result


def _statuses(path: str, method: str, operation: dict[str, Any]) -> list[int]:
    statuses = [401, 403, 406, 429, 503]
    if "{" in path:
        statuses.append(404)
    if operation.get("parameters") or "requestBody" in operation or method in ("post", "put", "patch"):
        statuses.append(400)
    if method in ("post", "put", "patch"):
        statuses += [413, 415]
    return statuses


def _add(responses: dict[str, Any], status: int) -> None:
    key = str(status)
    if key in responses:
        response = responses[key]
    else:
        response = responses[key] = {"description": DESCRIPTIONS.get(status, "Error")}
    if status >= 400 or "content" not in response:
        # Errors are JSON whatever was asked for (also on the markdown-capable detail view).
        response["content"] = {"application/json": {"schema": ERROR_REF}}
    headers = response.setdefault("headers", {})
    if status in (429, 503):
        headers.update(RETRY_AFTER)
    if status == 401:
        headers.update(WWW_AUTHENTICATE)
    if not headers:
        del response["headers"]


class YamlAsTextRenderer(OpenApiYamlRenderer):
    """``?format=yaml``: YAML served as text, so a browser shows it instead of downloading it."""

    media_type = "text/plain"


class SchemaView(SpectacularAPIView):
    """GET /api/schema/: JSON by default (``application/json``), ``?format=yaml`` as text."""

    renderer_classes = [OpenApiJsonRenderer2, YamlAsTextRenderer, OpenApiYamlRenderer, OpenApiYamlRenderer2]

    @extend_schema(
        operation_id="schema_retrieve",
        summary="This API's OpenAPI 3.1 document",
        parameters=[OpenApiParameter("format", str, enum=["json", "yaml"], description="Default json.")],
        responses={
            (200, "application/json"): OpenApiResponse(OpenApiTypes.OBJECT, description="OpenAPI (JSON)."),
            (200, "text/plain"): OpenApiResponse(OpenApiTypes.STR, description="OpenAPI (YAML)."),
        },
    )
    def get(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        return super().get(request, *args, **kwargs)


@extend_schema(exclude=True)
class DocsView(SpectacularSwaggerView):
    """GET /api/docs/: Swagger UI, its assets served by this app (drf-spectacular-sidecar)."""

    url_name = "api-schema"
