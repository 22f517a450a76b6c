"""The request pipeline around the endpoints: faults, User-Agent, auth, rate limits, ETags.

The order follows what a client can observe on GitHub: a missing User-Agent is refused
before auth; bad credentials are 401 before any rate limit; an exhausted primary limit
is a 403 with ``x-ratelimit-remaining: 0``; a 304 is answered without spending the limit
(GITHUB.md sections 5-7).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from annoris.testing.github_emulator import shapes
from annoris.testing.github_emulator.routes import Reply, Request, match

if TYPE_CHECKING:
    from annoris.testing.github_emulator.faults import Failure
    from annoris.testing.github_emulator.server import GitHubEmulator

_NO_UA = (
    b"Request forbidden by administrative rules. Please make sure your request has a User-Agent header "
    b"(https://docs.github.com/en/rest/overview/resources-in-the-rest-api#user-agent-required)."
)
_PRIMARY = (
    "API rate limit exceeded for user ID 1. "
    "If you reach out to GitHub Support for help, please include the request ID."
)
PRIMARY_LIMIT_MESSAGE = _PRIMARY
_SECONDARY = (
    "You have exceeded a secondary rate limit. Please wait a few minutes before you try again. "
    "If you reach out to GitHub Support for help, please include the request ID."
)


def token_of(req: Request) -> str | None:
    """The token of ``Authorization: Bearer <t>`` or ``token <t>``."""
    scheme, _, value = req.headers.get("authorization", "").partition(" ")
    return value.strip() if scheme.lower() in {"bearer", "token"} and value.strip() else None


def describe(req: Request) -> tuple[str, str]:
    """(endpoint name, path template) of a request, for the call log."""
    found = match(req.method, req.path)
    return (found[0], found[1]) if found else ("unknown", req.path)


def dispatch(emu: GitHubEmulator, req: Request) -> Reply:
    """Answer one request."""
    found = match(req.method, req.path)
    if found and found[0] == "codeload":  # codeload URLs carry their own short-lived grant
        return found[2](emu, req, found[3])
    failure = emu.faults.take_failure(req.path)
    reply = _injected(failure) if failure is not None else _guarded(emu, req, found)
    reply.headers.update(emu.limiter.headers())
    for name, value in (failure.headers if failure is not None else {}).items():
        if value is None:
            reply.headers.pop(name, None)
        else:
            reply.headers[name] = value
    if found is not None:
        _name_the_docs(reply, shapes.doc_url(req.method, found[0]))
    return reply


def _injected(failure: Failure) -> Reply:
    body = failure.body if failure.body is not None else shapes.error("Server Error", failure.status)
    headers = {"retry-after": _seconds(failure.retry_after)} if failure.retry_after is not None else {}
    if isinstance(body, bytes):
        return Reply(failure.status, body, headers)
    return Reply.json(failure.status, body, **headers)


def _name_the_docs(reply: Reply, doc: str) -> None:
    """Point a generic error's ``documentation_url`` at the endpoint's page, as GitHub does."""
    if (
        reply.status < 400
        or not isinstance(reply.body, bytes)
        or "json" not in reply.headers.get("content-type", "")
    ):
        return
    data = json.loads(reply.body)
    if isinstance(data, dict) and data.get("documentation_url") == shapes.DOCS:
        data["documentation_url"] = doc
        reply.body = json.dumps(data).encode()


def _guarded(emu: GitHubEmulator, req: Request, found: tuple | None) -> Reply:  # type: ignore[type-arg]
    if not req.headers.get("user-agent"):
        return Reply(403, _NO_UA, {"content-type": "text/plain; charset=utf-8"})
    token = token_of(req)
    if req.headers.get("authorization") and token != emu.token:
        return Reply.error(401, "Bad credentials")
    if token is None:  # the emulated repository is private: GitHub hides it with a 404
        return Reply.error(404, "Not Found")
    refused, retry_after = emu.faults.take_secondary()
    if refused:
        headers = {"retry-after": _seconds(retry_after)} if retry_after is not None else {}
        return Reply.json(403, shapes.error(_SECONDARY, 403), **headers)
    if (
        found is None
        or found[3].get("owner") not in (None, emu.owner)
        or found[3].get("repo") not in (None, emu.name)
    ):
        return Reply.error(404, "Not Found")
    if found[0] != "rate_limit" and emu.limiter.exhausted():
        return Reply.json(403, shapes.error(_PRIMARY, 403, shapes.RATE_LIMIT_DOCS))
    reply = found[2](emu, req, found[3])
    return _conditional(emu, req, reply, token, counts=found[0] != "rate_limit")


def _conditional(emu: GitHubEmulator, req: Request, reply: Reply, token: str, *, counts: bool) -> Reply:
    """Add an ETag to JSON GETs; a matching If-None-Match is a free 304 (GITHUB.md 5)."""
    if req.method == "GET" and reply.status == 200 and isinstance(reply.body, bytes):
        tag = shapes.etag(token, reply.body)
        reply.headers["etag"] = tag
        wanted = {t.strip().removeprefix("W/") for t in req.headers.get("if-none-match", "").split(",")}
        if tag in wanted:
            return Reply(304, b"", {"etag": tag})
    if counts:
        emu.limiter.spend()
    return reply


def _seconds(value: float | None) -> str:
    return str(int(value)) if value is not None and float(value).is_integer() else str(value)
