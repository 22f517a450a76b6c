"""The MCP server and its two transports: streamable HTTP at ``/mcp`` and stdio.

HTTP: the web process runs gunicorn with sync (WSGI) workers, and the SDK's streamable-HTTP
app is ASGI. ``mcp_endpoint`` is a plain Django view that authenticates the request with the
API's own DRF authentication classes, then hands it to the SDK in stateless JSON-response
mode (one POST in, one JSON answer out, no session to keep between workers) through
asgiref's ``async_to_sync``. That bridge is Django's own: while the SDK's coroutine runs, the
tools' ``sync_to_async`` calls come back to this request's thread, so the ORM runs where
Django manages its connection. The same view serves under runserver, gunicorn and
``annoris.asgi`` (Django runs sync views there in its thread pool).

stdio: ``manage.py mcp`` runs ``get_server().run("stdio")`` for a local operator.
"""

from __future__ import annotations

import functools
import inspect
import json
import logging
import threading
from typing import Any

import anyio
from asgiref.sync import async_to_sync
from django.core.exceptions import RequestDataTooBig
from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.http.request import RawPostDataException
from django.views.decorators.csrf import csrf_exempt
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError, UnexpectedToolError
from mcp.server.transport_security import TransportSecuritySettings
from mcp.types import Resource
from rest_framework import exceptions
from rest_framework.request import Request
from rest_framework.settings import api_settings

from annoris.api.errors import retry_after
from annoris.mcp import errors, lists, prompts, tools, writing
from annoris.oauth.resources import challenge

logger = logging.getLogger("annoris.mcp")
if logging.getLogger("mcp").level == logging.NOTSET:
    logging.getLogger("mcp").setLevel(logging.WARNING)  # the SDK logs every request at INFO

MCP_PATH = "/mcp"
MAX_BODY_BYTES = 2 * tools.MAX_MARKDOWN_BYTES + 64 * 1024  # a save_session call, JSON-escaped
MCP_TIMEOUT = 20.0  # s per request: answered (504) before gunicorn's 30 s kills the worker
INSTRUCTIONS = (
    "Annoris keeps your working memory: one markdown session document per work session. "
    "At the start of a session call get_context; see what happened lately with recent_activity; "
    "read a whole session with read_session; save what you did with save_session (the prompt "
    "save_this_session says how), and change a few lines with edit_session (it needs the sha you read)."
)


class AnnorisMCP(MCPServer):
    """The SDK's server, whose resource list also names the most recent sessions, and whose
    tool errors are one plain sentence (no pydantic dump, no "Error executing tool" prefix)."""

    async def list_resources(self) -> list[Resource]:
        return [*await super().list_resources(), *await tools.recent_sessions()]

    arguments: dict[str, list[str]]  # tool name -> its argument names, set by get_server

    async def call_tool(
        self, name: str, arguments: dict[str, Any], context: Context | None = None
    ) -> Any:  # the SDK's CallToolResult | InputRequiredResult
        known = self.arguments.get(name)
        unknown = sorted(set(arguments) - set(known)) if known is not None else []
        if unknown:  # pydantic would drop it silently: say so, the model meant something by it
            listed = ", ".join(known) or "none"
            raise ToolError(f"{unknown[0]!r} is not an argument of {name}; its arguments are: {listed}.")
        try:
            return await super().call_tool(name, arguments, context)
        except UnexpectedToolError:
            raise  # a bug: the SDK answers a generic message and logs the traceback
        except ToolError as exc:
            raise ToolError(errors.sentence(exc, name)) from exc.__cause__


def describe(fn: Any, description: str | None = None) -> str:
    """A tool's description as clean sentences: the docstring's paragraphs, each on one line."""
    text = description or inspect.cleandoc(fn.__doc__ or "")
    lines = (
        [" ".join(paragraph.split()) for paragraph in text.split("\n\n")]
        if not description
        else text.split("\n")
    )
    return "\n".join(line for line in lines if line)


@functools.cache
def get_server() -> AnnorisMCP:
    """The process's MCP server: the tools of ``tools.TOOLS`` and the session resources."""
    server = AnnorisMCP(
        name="annoris",
        title="Annoris",
        instructions=INSTRUCTIONS,
        version="1.0",
        # No subscriptions/listen: its answer is a stream that never ends, which would hold a
        # sync worker until gunicorn kills it. Nothing here changes lists at run time anyway.
        subscriptions=False,
    )
    server.arguments = {}
    reads = [(*tool, None) for tool in (tools.TOOLS[0], *lists.TOOLS, *tools.TOOLS[1:])]  # context first
    for fn, title, hints, description in reads + writing.TOOLS:
        text = describe(fn, description)
        server.add_tool(fn, title=title, description=text, annotations=hints, structured_output=True)
        server.arguments[fn.__name__] = [p for p in inspect.signature(fn).parameters if p != "ctx"]
    server.prompt(name="save_this_session", title="Save this session", description=prompts.DESCRIPTION)(
        prompts.save_this_session
    )
    server.resource(
        tools.SESSION_URI,
        name="session",
        title="Session document",
        description="A session document (markdown) by id.",
        mime_type="text/markdown",
    )(tools.session_markdown)
    return server


# --- HTTP transport -------------------------------------------------------------------------

_build_lock = threading.Lock()


@csrf_exempt  # token-authenticated JSON-RPC; DRF's SessionAuthentication still enforces CSRF
def mcp_endpoint(request: HttpRequest) -> HttpResponseBase:
    """``POST /mcp``: one JSON-RPC message in, its JSON answer out. A batch (a JSON array) is
    refused with 400 and a JSON-RPC "invalid request": MCP 2025-06-18 removed batching (#20)."""
    if request.method != "POST":  # stateless: no SSE stream to GET, no session to DELETE
        return _error(405, -32000, "Only POST is served at /mcp (stateless, JSON responses).", allow="POST")
    grant = _authenticate(request)
    if isinstance(grant, HttpResponse):
        return grant
    if _content_length(request) > MAX_BODY_BYTES:
        return _error(413, -32600, f"The request body is larger than {MAX_BODY_BYTES // 1024} KiB.")
    try:
        body = request.body
    except (RequestDataTooBig, RawPostDataException):
        return _error(413, -32600, "The request body is too large.")
    if body.lstrip()[:1] == b"[":  # answered here: the SDK's own refusal quotes the whole input
        return _error(400, -32600, "JSON-RPC batches are not accepted; send one message per request.")
    try:
        status, headers, content = async_to_sync(_serve)(_scope(request, grant), body)
    except TimeoutError:  # the SDK did not answer within MCP_TIMEOUT
        return _error(504, -32603, f"The request took longer than {MCP_TIMEOUT:g} s.")
    except Exception:  # a bug in the SDK or here: answer JSON-RPC, never Django's HTML page
        logger.exception("MCP request failed")
        return _error(500, -32603, "Internal error.")
    response = HttpResponse(content, status=status)
    for name, value in headers:
        if name.lower() not in ("content-length", "connection"):
            response.headers[name] = value
    return response


def _content_length(request: HttpRequest) -> int:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0  # as Django reads it: the body is then read as empty


def _authenticate(request: HttpRequest) -> tools.Grant | HttpResponse:
    """The API's DEFAULT_AUTHENTICATION_CLASSES run on this request; an error response if none
    accepts it. A token with no ``scope`` attribute (DRF authtoken) counts as read-only."""
    authenticators = [cls() for cls in api_settings.DEFAULT_AUTHENTICATION_CLASSES]
    _accept_bearer(request, authenticators)
    drf_request = Request(request, authenticators=authenticators)
    try:
        user, auth = drf_request.user, drf_request.auth
    except exceptions.APIException as exc:
        return _auth_error(exc.status_code, str(exc.detail))
    except DatabaseError:
        return _auth_error(503, "The database is unavailable; try again shortly.")
    if user is None or not user.is_authenticated:
        return _auth_error(401, "Authentication required: send Authorization: Bearer <token>.")
    return tools.Grant(user=user.get_username(), write=getattr(auth, "scope", None) == "write")


def _accept_bearer(request: HttpRequest, authenticators: list[Any]) -> None:
    """MCP clients send ``Authorization: Bearer <token>``; when the API's token class expects
    another keyword (DRF's ``Token``), present the same token under that keyword."""
    scheme, _, token = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
    keywords = [kw for kw in (getattr(a, "keyword", None) for a in authenticators) if isinstance(kw, str)]
    if scheme.lower() == "bearer" and token and keywords and "bearer" not in map(str.lower, keywords):
        request.META["HTTP_AUTHORIZATION"] = f"{keywords[0]} {token}"
        # DRF reads request.headers, a cached_property that a middleware may already have built
        # from the old META (the request-id middleware does): drop it so it is built again.
        request.__dict__.pop("headers", None)


def _auth_error(status: int, message: str) -> HttpResponse:
    response = _error(status, -32001, message)
    if status == 401:
        response.headers["WWW-Authenticate"] = challenge(MCP_PATH)  # points at the OAuth metadata
    elif status == 503:
        response.headers.update(retry_after(status))
    return response


def _error(status: int, code: int, message: str, allow: str | None = None) -> HttpResponse:
    body = {"jsonrpc": "2.0", "id": None, "error": {"code": code, "message": message}}
    response = HttpResponse(json.dumps(body), status=status, content_type="application/json")
    if allow:
        response.headers["Allow"] = allow
    return response


_DROPPED_HEADERS = {"authorization", "cookie"}  # the SDK needs neither; keep secrets out of it


def _scope(request: HttpRequest, grant: tools.Grant) -> dict[str, Any]:
    headers = [
        (name.lower().encode("latin-1"), value.encode("latin-1"))
        for name, value in request.headers.items()
        if name.lower() not in _DROPPED_HEADERS
    ]
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": request.scheme,
        "path": MCP_PATH,
        "raw_path": MCP_PATH.encode(),
        "root_path": "",
        "query_string": request.META.get("QUERY_STRING", "").encode("latin-1"),
        "headers": headers,
        "client": (request.META.get("REMOTE_ADDR") or "", 0),
        "server": (request.get_host(), 0),
        tools.GRANT_KEY: grant,
    }


async def _serve(scope: dict[str, Any], body: bytes) -> tuple[int, list[tuple[str, str]], bytes]:
    """Run one request through a fresh stateless session manager; the collected answer."""
    with _build_lock:  # streamable_http_app() replaces the server's manager: build and take it together
        app = get_server().streamable_http_app(
            streamable_http_path=MCP_PATH,
            stateless_http=True,
            json_response=True,
            # Django already checked the Host header against ALLOWED_HOSTS, and every call needs a token.
            transport_security=TransportSecuritySettings(enable_dns_rebinding_protection=False),
        )
        manager = get_server().session_manager
    answered = anyio.Event()
    sent_body = False
    status, headers, chunks = 500, [], []

    async def receive() -> dict[str, Any]:
        nonlocal sent_body
        if not sent_body:
            sent_body = True
            return {"type": "http.request", "body": body, "more_body": False}
        await answered.wait()
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status, headers
        if message["type"] == "http.response.start":
            status = message["status"]
            headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in message.get("headers", [])]
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                answered.set()

    with anyio.move_on_after(MCP_TIMEOUT) as deadline:
        async with manager.run():
            await app(scope, receive, send)
    if deadline.cancelled_caught and not answered.is_set():
        raise TimeoutError(f"no answer within {MCP_TIMEOUT:g} s")
    return status, headers, b"".join(chunks)
