"""A plain GitHub REST client: one method per endpoint, typed errors, bounded retries.

No Django here: the sync engine and the read path get a client through GitHubSource.
Every request carries a timeout; rate limits and ``Retry-After`` are honoured within a
per-request wait budget (``max_wait``); 5xx and network errors are retried with
exponential backoff and jitter. The token is sent, never logged or put in messages.
Facts and sources: /work/shared/GITHUB.md.
"""

from __future__ import annotations

import base64
import random
import tarfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import requests

from annoris.sources.base import (
    SourceConflict,
    SourceError,
    SourceForbidden,
    SourceNotFound,
    SourceUnavailable,
)

DOCS = "https://docs.github.com/en/rest"
# Wait for a primary limit that says nothing about when it resets (GITHUB.md 6: "wait at
# least 1 minute, then back off exponentially"), doubled for each further refusal.
MIN_RATE_LIMIT_WAIT = 60.0
_MAX_TEXT = 500  # characters of GitHub's message kept in an error
_MAX_ERRORS = 5  # entries of GitHub's errors[] kept in an error


class GitHubError(SourceError):
    """A GitHub API failure; ``status`` is the HTTP status when there was one.

    For an answer from GitHub, ``github_message``, ``errors`` and ``documentation_url``
    are GitHub's own words (4xx bodies carry them) and ``hint`` says what to check.
    """

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        github_message: str = "",
        errors: tuple[str, ...] = (),
        documentation_url: str | None = None,
        hint: str = "",
    ) -> None:
        super().__init__(message)
        self.status = status
        self.github_message = github_message
        self.errors = errors
        self.documentation_url = documentation_url
        self.hint = hint


class NotFound(GitHubError, SourceNotFound):
    """404: no such repository, branch, path or object (or no access to a private one)."""


class Unauthorized(GitHubError, SourceForbidden):
    """401 bad credentials, or 403 missing permission: retrying will not help."""


class RateLimited(GitHubError, SourceUnavailable):
    """A primary or secondary rate limit whose wait does not fit the request's budget."""

    def __init__(
        self, message: str, *, retry_after: float, status: int | None = None, **details: Any
    ) -> None:
        super().__init__(message, status=status, **details)
        self.retry_after = retry_after


class Conflict(GitHubError, SourceConflict):
    """409, or 422 about the ``sha``: the file changed since the SHA the writer knew."""


class Unavailable(GitHubError, SourceUnavailable):
    """5xx after retries, connection errors and timeouts."""


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
class _Retry:
    delay: float
    reason: str
    rate_limited: bool
    status: int | None = None
    details: dict[str, Any] | None = None


@dataclass(frozen=True)
class _Said:
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


class GitHubClient:
    """GitHub's REST API for one repository ``owner/name``."""

    def __init__(
        self,
        *,
        repo: str,
        token: str | None,
        base_url: str = "https://api.github.com",
        timeout: tuple[float, float] = (3.05, 15),
        session: requests.Session | None = None,
        user_agent: str = "Annoris",
        max_wait: float = 60.0,
        max_retries: int = 5,
        backoff: float = 0.5,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        """``sleep`` waits out retries and rate limits; tests pass one that records instead."""
        owner, _, name = repo.partition("/")
        if not owner or not name or "/" in name:
            raise ValueError(f"repo must be 'owner/name', got {repo!r}")
        self.repo, self.base_url, self.timeout = repo, base_url.rstrip("/"), timeout
        self.max_wait, self.max_retries, self.backoff = max_wait, max_retries, backoff
        self._token = token
        self._sleep = sleep  # how retries wait; tests pass one that records instead of sleeping
        self._prefix = f"/repos/{quote(owner, safe='')}/{quote(name, safe='')}"
        self.session = session or requests.Session()
        self.session.headers.update(
            {
                "Accept": "application/vnd.github+json",
                "X-GitHub-Api-Version": "2022-11-28",
                "User-Agent": user_agent,
            }
        )
        if token is not None:
            self.session.headers["Authorization"] = f"Bearer {token}"
        self.rate_limit = RateLimit()
        self.calls = 0  # HTTP requests sent, retries and followed redirects included
        self.calls_by_endpoint: Counter[str] = Counter()

    def __repr__(self) -> str:
        return f"GitHubClient(repo={self.repo!r}, base_url={self.base_url!r})"  # no token

    # -- endpoints ------------------------------------------------------------------

    def get_branch(self, branch: str) -> Branch:
        """The head commit and root tree of ``branch``.

        Reference: https://docs.github.com/en/rest/branches/branches#get-a-branch
        """
        data = self._json("GET", f"/branches/{quote(branch, safe='/')}", endpoint="branch")
        return Branch(commit_sha=data["commit"]["sha"], tree_sha=data["commit"]["commit"]["tree"]["sha"])

    def get_tree(self, tree_sha: str, *, recursive: bool, etag: str | None = None) -> Tree | NotModified:
        """A tree (recursive: every entry below it), or NotModified when ``etag`` still matches.

        Reference: https://docs.github.com/en/rest/git/trees#get-a-tree
        """
        resp = self._request(
            "GET",
            f"/git/trees/{quote(tree_sha, safe='/')}",
            endpoint="tree",
            params={"recursive": "1"} if recursive else None,  # any value means recursive; omit for one level
            headers={"If-None-Match": etag} if etag else None,
        )
        if resp.status_code == 304:
            return NotModified(etag=resp.headers.get("etag", etag))
        data = resp.json()
        entries = tuple(
            TreeEntry(path=e["path"], mode=e["mode"], type=e["type"], sha=e["sha"], size=e.get("size"))
            for e in data["tree"]
        )
        return Tree(
            sha=data["sha"], entries=entries, truncated=bool(data["truncated"]), etag=resp.headers.get("etag")
        )

    def get_blob(self, sha: str) -> bytes:
        """The bytes of one blob (base64 in JSON, whatever its size up to 100 MB).

        Reference: https://docs.github.com/en/rest/git/blobs#get-a-blob
        """
        data = self._json("GET", f"/git/blobs/{quote(sha, safe='')}", endpoint="blob")
        return _decode(data)

    def get_contents(self, path: str, *, ref: str) -> ContentFile:
        """One file at ``ref`` through the Contents API.

        Reference: https://docs.github.com/en/rest/repos/contents#get-repository-content
        """
        data = self._json("GET", f"/contents/{quote(path)}", endpoint="contents", params={"ref": ref})
        if isinstance(data, list) or data.get("type") != "file":
            raise NotFound(f"{path} is not a file at {ref}", status=200)
        # Over 1 MB the JSON carries no content (encoding "none"); the blob endpoint serves it.
        content = self.get_blob(data["sha"]) if data.get("encoding") == "none" else _decode(data)
        return ContentFile(path=data["path"], sha=data["sha"], content=content)

    def put_contents(
        self, path: str, *, content: bytes, message: str, sha: str | None, branch: str
    ) -> tuple[str, str]:
        """Create (sha=None) or replace a file in one commit; returns (blob sha, commit sha).

        Reference: https://docs.github.com/en/rest/repos/contents#create-or-update-file-contents
        """
        body: dict[str, Any] = {
            "message": message,
            "content": base64.b64encode(content).decode(),
            "branch": branch,
        }
        if sha is not None:
            body["sha"] = sha
        data = self._json("PUT", f"/contents/{quote(path)}", endpoint="put_contents", json=body)
        return data["content"]["sha"], data["commit"]["sha"]

    def delete_contents(self, path: str, *, sha: str, message: str, branch: str) -> str:
        """Delete a file known at blob ``sha`` in one commit; returns the commit sha.

        Reference: https://docs.github.com/en/rest/repos/contents#delete-a-file
        """
        body = {"message": message, "sha": sha, "branch": branch}
        data = self._json("DELETE", f"/contents/{quote(path)}", endpoint="delete_contents", json=body)
        return data["commit"]["sha"]

    def iter_tarball(self, ref: str) -> Iterator[tuple[str, bytes]]:
        """(path, bytes) of every regular file at ``ref``, streamed from one archive download.

        Reference: https://docs.github.com/en/rest/repos/contents#download-a-repository-archive-tar
        """
        # requests follows the 302 to codeload; it drops Authorization when the host changes,
        # which is right: the codeload URL carries its own short-lived grant.
        resp = self._request("GET", f"/tarball/{quote(ref, safe='/')}", endpoint="tarball", stream=True)
        try:
            # "r|gz" reads the stream once, front to back: memory stays at one member.
            with tarfile.open(fileobj=resp.raw, mode="r|gz", encoding="utf-8") as archive:
                for member in archive:
                    if not member.isfile():
                        continue  # directories, symlinks, submodules
                    _, _, path = member.name.partition("/")  # drop "<owner>-<repo>-<sha>/"
                    handle = archive.extractfile(member)
                    if path and handle is not None:
                        yield path, handle.read()
        except (requests.RequestException, tarfile.TarError, OSError, EOFError) as exc:
            raise Unavailable(f"GitHub archive download failed for {ref}: {type(exc).__name__}") from None
        finally:
            resp.close()

    # -- HTTP -------------------------------------------------------------------------

    def _json(self, method: str, path: str, *, endpoint: str, **kwargs: Any) -> Any:
        return self._request(method, path, endpoint=endpoint, **kwargs).json()

    def _request(self, method: str, path: str, *, endpoint: str, **kwargs: Any) -> requests.Response:
        """Send with retries; return a 2xx/304 response or raise a GitHubError."""
        where = f"{method} {self._prefix}{path}"
        url, waited, attempt, limited = self.base_url + self._prefix + path, 0.0, 0, 0
        while True:
            attempt += 1
            self.calls += 1
            self.calls_by_endpoint[endpoint] += 1
            try:
                resp = self.session.request(method, url, timeout=self.timeout, **kwargs)
            except requests.RequestException as exc:
                retry = self._transport_retry(method, exc, attempt)
            else:
                # A followed redirect (the tarball's 302 to codeload, a renamed repository's
                # 301) was a request of its own, and may carry the rate-limit headers.
                self.calls += len(resp.history)
                self.calls_by_endpoint[endpoint] += len(resp.history)
                for hop in (*resp.history, resp):
                    self._record_rate_limit(hop)
                retry = self._classify(resp, where, attempt, limited)
                if retry is None:
                    return resp
                resp.close()
            limited += retry.rate_limited
            if attempt > self.max_retries or waited + retry.delay > self.max_wait:
                raise self._give_up(retry, where, attempt)
            self._sleep(retry.delay)
            waited += retry.delay

    def _transport_retry(self, method: str, exc: requests.RequestException, attempt: int) -> _Retry:
        # A PUT/DELETE that timed out while reading may have committed: retrying it would
        # turn success into a 409, so only a failed connect is retried for writes.
        if method in {"PUT", "DELETE"} and not isinstance(exc, requests.ConnectTimeout):
            return _Retry(float("inf"), type(exc).__name__, rate_limited=False)
        return _Retry(self._backoff(attempt), type(exc).__name__, rate_limited=False)

    def _backoff(self, attempt: int) -> float:
        """Exponential backoff (backoff, 2x, 4x ... capped at 30 s) with +-50% jitter."""
        return min(self.backoff * 2 ** (attempt - 1), 30.0) * random.uniform(0.5, 1.5)

    def _classify(self, resp: requests.Response, where: str, attempt: int, limited: int = 0) -> _Retry | None:
        """None for success; a _Retry for a retryable answer; raises for final errors."""
        status = resp.status_code
        if status < 400:
            return None
        said = self._said(resp)
        message = said.message
        if status == 401:
            hint = "Check the token (GITHUB_TOKEN): it is wrong, expired or revoked"
            raise Unauthorized(
                f"GitHub rejected the token (401) for {where}: {said.text(hint)}",
                status=401,
                **said.details(hint),
            )
        if status in (403, 429):
            wait = _rate_limit_wait(resp, message, limited)
            if wait is not None:
                reason = f"rate limited ({status}: {message or 'no message'})"
                if (
                    resp.headers.get("x-ratelimit-remaining") == "0"
                    and "x-ratelimit-reset" not in resp.headers
                ):
                    reason += "; no reset time given, so waiting at least a minute"
                return _Retry(wait, reason, rate_limited=True, status=status, details=said.details(""))
            hint = self._permission_hint(resp)
            raise Unauthorized(
                f"GitHub refused access ({status}) for {where}: {said.text(hint)}",
                status=status,
                **said.details(hint),
            )
        if status == 404:
            hint = self._not_found_hint(where, message)
            raise NotFound(f"Not found (404): {where}: {said.text(hint)}", status=404, **said.details(hint))
        if status == 409 or (status == 422 and "sha" in message):
            hint = "The file changed since the SHA this write was based on: read it again"
            raise Conflict(
                f"Conflict ({status}) for {where}: {said.text(hint)}", status=status, **said.details(hint)
            )
        if status >= 500:
            return _Retry(self._backoff(attempt), f"HTTP {status}", rate_limited=False, status=status)
        hint = _client_error_hint(status)
        raise GitHubError(
            f"GitHub answered {status} for {where}: {said.text(hint)}", status=status, **said.details(hint)
        )

    def _said(self, resp: requests.Response) -> _Said:
        """GitHub's ``message``, ``errors[]`` and ``documentation_url``, token scrubbed, bounded."""
        try:
            data = resp.json()
        except ValueError:
            return _Said(message=self._scrub(resp.text[:200].strip()))
        if not isinstance(data, dict):
            return _Said()
        errors = data.get("errors")
        listed = errors[:_MAX_ERRORS] if isinstance(errors, list) else []
        doc = data.get("documentation_url")
        return _Said(
            message=self._scrub(str(data.get("message") or ""))[:_MAX_TEXT],
            errors=tuple(self._scrub(_error_text(e))[:_MAX_TEXT] for e in listed),
            documentation_url=self._scrub(doc)[:_MAX_TEXT] if isinstance(doc, str) else None,
        )

    def _not_found_hint(self, where: str, message: str) -> str:
        lowered = message.lower()
        if "branch" in lowered or "no commit found for the ref" in lowered:
            return f"Check the branch name (GITHUB_BRANCH): {self.repo} has no such branch or ref"
        if "/contents/" in where or "/git/blobs/" in where:
            return (
                f"No such file or object at that ref in {self.repo} (or the token cannot see the repository)"
            )
        return (
            f"Repository {self.repo} not found or no access: check its name (GITHUB_REPO) and that the "
            "token can see it (GitHub answers 404, not 403, for a private repository it hides)"
        )

    def _permission_hint(self, resp: requests.Response) -> str:
        h = resp.headers
        hint = (
            f"Check the token's access to {self.repo}: a classic token needs the 'repo' scope, a "
            "fine-grained one 'Contents' read (and write, for writes) on this repository"
        )
        if "x-oauth-scopes" in h:
            hint += f"; the token's scopes: {h['x-oauth-scopes'] or 'none'}"
        if h.get("x-accepted-oauth-scopes"):
            hint += f"; this endpoint accepts: {h['x-accepted-oauth-scopes']}"
        if h.get("x-accepted-github-permissions"):
            hint += f"; it needs: {h['x-accepted-github-permissions']}"
        return hint

    def _give_up(self, retry: _Retry, where: str, attempt: int) -> GitHubError:
        if retry.rate_limited:
            over = retry.delay > self.max_wait
            budget = f" (longer than this request may wait, {self.max_wait:g} s)" if over else ""
            return RateLimited(
                f"GitHub {retry.reason} for {where}; retry after {retry.delay:.0f} s{budget}",
                retry_after=retry.delay,
                status=retry.status,
                **(retry.details or {}),
            )
        return Unavailable(
            f"GitHub unavailable: {retry.reason} for {where} after {attempt} attempt(s)", status=retry.status
        )

    def _record_rate_limit(self, resp: requests.Response) -> None:
        h = resp.headers
        if "x-ratelimit-remaining" not in h:
            return  # codeload and some error pages carry no rate-limit headers
        self.rate_limit = RateLimit(
            limit=_int(h.get("x-ratelimit-limit")),
            remaining=_int(h.get("x-ratelimit-remaining")),
            used=_int(h.get("x-ratelimit-used")),
            reset=_int(h.get("x-ratelimit-reset")),
            resource=h.get("x-ratelimit-resource"),
        )

    def _scrub(self, text: str) -> str:
        """Keep the token out of messages even if a server echoed it."""
        return text.replace(self._token, "***") if self._token else text


def _rate_limit_wait(resp: requests.Response, message: str, limited: int = 0) -> float | None:
    """Seconds to wait for a rate-limited 403/429, or None if it is not a rate limit (GITHUB.md 6).

    ``limited`` counts the rate-limit refusals this request already met: a wait GitHub
    does not state starts at a minute and doubles, so a limit is never retried in a burst.
    """
    retry_after = _float(resp.headers.get("retry-after"))
    if retry_after is not None:
        return max(retry_after, 0.0)
    backoff = MIN_RATE_LIMIT_WAIT * 2**limited
    if resp.headers.get("x-ratelimit-remaining") == "0":
        reset = _float(resp.headers.get("x-ratelimit-reset"))
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


def _client_error_hint(status: int) -> str:
    if status == 422:
        return "GitHub could not process the request as sent (see its errors)"
    if status in (400, 410):
        return "The request or its X-GitHub-Api-Version was refused; the client may need an update"
    return ""


def _decode(data: dict[str, Any]) -> bytes:
    if data.get("encoding") != "base64":
        raise GitHubError(f"unexpected encoding {data.get('encoding')!r}")
    return base64.b64decode("".join(data["content"].split()))  # GitHub wraps lines


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def _float(value: str | None) -> float | None:
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None  # an HTTP-date Retry-After: fall through to the other rules
