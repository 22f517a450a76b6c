"""Guards in front of every /api/ view (issue #7), cheap enough for the hot read path.

- a body over ``ANNORIS_API_MAX_BODY_BYTES`` (by ``Content-Length``) is 413 before it is read;
- a query string over ``MAX_QUERY_CHARS`` is a JSON 414 (gunicorn's HTML one comes later);
- more than ``MAX_HEADERS`` headers, or one over ``MAX_HEADER_BYTES``, is a JSON 431
  (gunicorn.conf.py sets gunicorn's own HTML 431 at twice these);
- a NUL byte or a lone surrogate in a query parameter is 400 (PostgreSQL cannot store NUL,
  and such a value must not reach a query and come back as "database unavailable");
- an exception that escapes a view, or any non-JSON error page Django makes (CSRF failure,
  disallowed host, a 404 from the URL resolver), is answered in the API's JSON error shape
  (an error a view rendered as HTML for a browser keeps its detail and code);
- a browser without credentials goes to the login page instead (``annoris.api.browsers``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from annoris.api.browsers import login_instead
from annoris.api.errors import API_PREFIX, json_error
from annoris.text import unstorable

logger = logging.getLogger("annoris.api")

MAX_QUERY_CHARS = 4096  # no API query needs more; gunicorn's request line limit is set above it
MAX_HEADERS = 100  # gunicorn's defaults, answered here in JSON; gunicorn.conf.py doubles its own
MAX_HEADER_BYTES = 8190  # one "Name: value" line with its CRLF
REASONS = {400: "bad_request", 403: "permission_denied", 404: "not_found", 405: "method_not_allowed"}


class ApiGuardMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.path_info.startswith(API_PREFIX):
            return self.get_response(request)
        refused = _refuse_headers(request) or _refuse_body(request) or _refuse_query(request)
        if refused is not None:
            return refused
        response = self.get_response(request)
        if response.status_code >= 400:
            login = login_instead(request, response)
            if login is not None:
                return login
            if not _is_json(response):
                return _as_json(response)
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not request.path_info.startswith(API_PREFIX):
            return None
        logger.error("Unhandled error under /api/", exc_info=exception)
        return json_error(500, "Internal error; it has been logged.", "server_error")


def _refuse_headers(request: HttpRequest) -> HttpResponse | None:
    headers = [(k, v) for k, v in request.META.items() if k.startswith("HTTP_")]
    headers += [(k, v) for k in ("CONTENT_TYPE", "CONTENT_LENGTH") if (v := request.META.get(k))]
    if len(headers) > MAX_HEADERS:
        return json_error(431, f"{len(headers)} headers; the limit is {MAX_HEADERS}.", "headers_too_large")
    for key, value in headers:
        name = key.removeprefix("HTTP_").replace("_", "-").title()
        if len(name) + len(value) + 4 > MAX_HEADER_BYTES:  # "Name: value\r\n", as gunicorn counts it
            detail = f"The {name} header is over the {MAX_HEADER_BYTES}-byte limit."
            return json_error(431, detail, "headers_too_large")
    return None


def _refuse_body(request: HttpRequest) -> HttpResponse | None:
    declared = request.META.get("CONTENT_LENGTH")
    if not declared:
        return None
    try:
        length = int(declared)
    except ValueError:
        return json_error(400, "Invalid Content-Length header.", "bad_request")
    limit = settings.ANNORIS_API_MAX_BODY_BYTES
    if length > limit:
        return json_error(413, f"Request body of {length} bytes is over the {limit}-byte limit.", "too_large")
    return None


def _refuse_query(request: HttpRequest) -> HttpResponse | None:
    raw = request.META.get("QUERY_STRING")
    if not raw:
        return None
    if len(raw) > MAX_QUERY_CHARS:  # before gunicorn's own (HTML) 414 at 8,190 (#20)
        detail = f"The query string is {len(raw)} characters; the limit is {MAX_QUERY_CHARS}."
        return json_error(414, detail, "uri_too_long")
    bad: dict[str, list[str]] = {}
    for name, values in request.GET.lists():
        for value in (name, *values):
            if unstorable(value):
                bad.setdefault(name.replace("\x00", "\\x00"), []).append(
                    "Contains a NUL byte or an invalid character."
                )
    if not bad:
        return None
    return json_error(400, "Invalid characters in query parameters.", "invalid", errors=bad)


def _is_json(response: HttpResponse) -> bool:
    return "json" in response.get("Content-Type", "")


def _as_json(response: HttpResponse) -> HttpResponse:
    status = response.status_code
    data = getattr(response, "data", None)  # a DRF error rendered as HTML: keep what it said
    if isinstance(data, dict) and {"detail", "code"} <= data.keys():
        replaced = json_error(status, str(data["detail"]), str(data["code"]), errors=data.get("errors"))
        return _copy_headers(response, replaced)
    detail = {
        403: "Forbidden (for a browser session: the CSRF token is missing or wrong).",
        404: "Not found.",
    }.get(status, getattr(response, "reason_phrase", "") or "Error")
    replaced = json_error(status, detail, REASONS.get(status, "error"))
    return _copy_headers(response, replaced)


def _copy_headers(response: HttpResponse, replaced: HttpResponse) -> HttpResponse:
    for header in ("Allow", "Retry-After", "WWW-Authenticate"):
        if header in response:
            replaced[header] = response[header]
    return replaced
