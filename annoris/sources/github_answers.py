"""What GitHub answers and what it means: the answer shapes the client returns, and reading
an answer (its message, errors and hints, a rate limit's wait). No requests are sent here."""

from __future__ import annotations

import base64
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import requests

from annoris.sources.base import SourceError, SourceOutcomeUnknown, SourceUnavailable

MIN_RATE_LIMIT_WAIT = 60.0  # a primary limit with no reset: wait at least a minute (GITHUB.md 6)
_MAX_TEXT = 500  # characters of GitHub's message kept in an error
_MAX_ERRORS = 5  # entries of GitHub's errors[] kept in an error


@dataclass(frozen=True)
class Branch:
    commit_sha: str
    tree_sha: str


@dataclass(frozen=True)
class TreeEntry:
    path: str
    mode: str
    type: str  # blob, tree or commit (submodule)
    sha: str
    size: int | None = None


@dataclass(frozen=True)
class Tree:
    sha: str
    entries: tuple[TreeEntry, ...]
    truncated: bool
    etag: str | None = None


@dataclass(frozen=True)
class NotModified:
    """A conditional request answered 304: the cached copy is current (and it cost no rate limit)."""

    etag: str | None = None


@dataclass(frozen=True)
class ContentFile:
    path: str
    sha: str
    content: bytes


@dataclass(frozen=True)
class RateLimit:
    """The primary limit as of the last response (``reset`` in UTC epoch seconds)."""

    limit: int | None = None
    remaining: int | None = None
    used: int | None = None
    reset: int | None = None
    resource: str | None = None


@dataclass(frozen=True)
class Retry:
    delay: float
    reason: str
    rate_limited: bool
    status: int | None = None
    details: dict[str, Any] | None = None
    sent: bool = False  # a write whose request went out and got no answer: it may have landed (#20)


@dataclass(frozen=True)
class Said:
    """What a GitHub error answer said, scrubbed and bounded."""

    message: str = ""
    errors: tuple[str, ...] = ()
    documentation_url: str | None = None

    def details(self, hint: str) -> dict[str, Any]:
        return {
            "github_message": self.message,
            "errors": self.errors,
            "documentation_url": self.documentation_url,
            "hint": hint,
        }

    def text(self, hint: str = "") -> str:
        """``GitHub says '...' [errors]. <hint> (see <docs>)`` for an exception message."""
        parts = [f"GitHub says {self.message!r}" if self.message else "GitHub gave no message"]
        if self.errors:
            parts[0] += " [" + "; ".join(self.errors) + "]"
        if hint:
            parts.append(hint)
        text = ". ".join(parts)
        return f"{text} (see {self.documentation_url})" if self.documentation_url else text


def said(resp: requests.Response, scrub: Callable[[str], str]) -> Said:
    """GitHub's ``message``, ``errors[]`` and ``documentation_url``, token scrubbed, bounded."""
    try:
        data = resp.json()
    except ValueError:
        return Said(message=scrub(resp.text[:200].strip()))
    if not isinstance(data, dict):
        return Said()
    errors = data.get("errors")
    listed = errors[:_MAX_ERRORS] if isinstance(errors, list) else []
    doc = data.get("documentation_url")
    return Said(
        message=scrub(str(data.get("message") or ""))[:_MAX_TEXT],
        errors=tuple(scrub(_error_text(e))[:_MAX_TEXT] for e in listed),
        documentation_url=scrub(doc)[:_MAX_TEXT] if isinstance(doc, str) else None,
    )


def not_found_hint(repo: str, where: str, message: str) -> str:
    """What to check after a 404 at ``where``."""
    lowered = message.lower()
    if "branch" in lowered or "no commit found for the ref" in lowered:
        return f"Check the branch name (GITHUB_BRANCH): {repo} has no such branch or ref"
    if "/contents/" in where or "/git/blobs/" in where:
        return f"No such file or object at that ref in {repo} (or the token cannot see the repository)"
    return (
        f"Repository {repo} not found or no access: check its name (GITHUB_REPO) and that the "
        "token can see it (GitHub answers 404, not 403, for a private repository it hides)"
    )


def permission_hint(repo: str, resp: requests.Response) -> str:
    """What to check after a 401/403: the token's scopes, as GitHub's headers name them."""
    h = resp.headers
    hint = (
        f"Check the token's access to {repo}: a classic token needs the 'repo' scope, a "
        "fine-grained one 'Contents' read (and write, for writes) on this repository"
    )
    if "x-oauth-scopes" in h:
        hint += f"; the token's scopes: {h['x-oauth-scopes'] or 'none'}"
    if h.get("x-accepted-oauth-scopes"):
        hint += f"; this endpoint accepts: {h['x-accepted-oauth-scopes']}"
    if h.get("x-accepted-github-permissions"):
        hint += f"; it needs: {h['x-accepted-github-permissions']}"
    return hint


def rate_limit_wait(resp: requests.Response, message: str, limited: int = 0) -> float | None:
    """Seconds to wait for a rate-limited 403/429, or None if it is not a rate limit (GITHUB.md 6).

    ``limited`` counts the rate-limit refusals this request already met: a wait GitHub
    does not state starts at a minute and doubles, so a limit is never retried in a burst.
    """
    retry_after = float_header(resp.headers.get("retry-after"))
    if retry_after is not None:
        return max(retry_after, 0.0)
    backoff = MIN_RATE_LIMIT_WAIT * 2**limited
    if resp.headers.get("x-ratelimit-remaining") == "0":
        reset = float_header(resp.headers.get("x-ratelimit-reset"))
        if reset is None:
            return backoff  # exhausted, but when it refills is unknown
        return max(reset - time.time(), 0.0) + 1.0  # reset is whole seconds; a little past it
    if "rate limit" in message.lower() or resp.status_code == 429:
        return backoff  # secondary limit without Retry-After: at least one minute
    return None


def _error_text(error: object) -> str:
    """One entry of GitHub's ``errors[]``: a string, or {resource, field, code, message}."""
    if not isinstance(error, dict):
        return str(error)
    where = ".".join(str(error[k]) for k in ("resource", "field") if error.get(k))
    what = " ".join(str(error[k]) for k in ("code", "message") if error.get(k))
    return f"{where}: {what}" if where and what else where or what or "error"


def client_error_hint(status: int) -> str:
    if status == 422:
        return "GitHub could not process the request as sent (see its errors)"
    if status in (400, 410):
        return "The request or its X-GitHub-Api-Version was refused; the client may need an update"
    return ""


def decode_content(data: dict[str, Any]) -> bytes:
    if data.get("encoding") != "base64":
        raise SourceError(f"unexpected encoding {data.get('encoding')!r}")
    return base64.b64decode("".join(data["content"].split()))  # GitHub wraps lines


def int_header(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def float_header(value: str | None) -> float | None:
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None  # an HTTP-date Retry-After: fall through to the other rules


def gave_up(retry: Retry, where: str, attempt: int, max_wait: float) -> SourceUnavailable:
    """The error a request ends with once it may not retry: unavailable, or rate limited for
    ``retry_after`` seconds (longer than ``max_wait``, the request's budget)."""
    if retry.rate_limited:
        budget = f" (longer than this request may wait, {max_wait:g} s)" if retry.delay > max_wait else ""
        return SourceUnavailable(
            f"GitHub {retry.reason} for {where}; retry after {retry.delay:.0f} s{budget}",
            retry_after=retry.delay,
            status=retry.status,
            **(retry.details or {}),
        )
    if retry.sent:
        return SourceOutcomeUnknown(f"GitHub did not answer ({retry.reason}) {where}; it may have applied it")
    return SourceUnavailable(
        f"GitHub unavailable: {retry.reason} for {where} after {attempt} attempt(s)", status=retry.status
    )


def rate_limit_of(resp: requests.Response) -> RateLimit | None:
    """The rate limit an answer reports; None when it carries no rate-limit headers (codeload)."""
    h = resp.headers
    if "x-ratelimit-remaining" not in h:
        return None
    return RateLimit(
        limit=int_header(h.get("x-ratelimit-limit")),
        remaining=int_header(h.get("x-ratelimit-remaining")),
        used=int_header(h.get("x-ratelimit-used")),
        reset=int_header(h.get("x-ratelimit-reset")),
        resource=h.get("x-ratelimit-resource"),
    )
