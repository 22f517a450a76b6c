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

from annoris.sources.base import SourceConflict, SourceError, SourceNotFound, SourceUnavailable

DOCS = "https://docs.github.com/en/rest"


class GitHubError(SourceError):
    """A GitHub API failure; ``status`` is the HTTP status when there was one."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class NotFound(GitHubError, SourceNotFound):
    """404: no such repository, branch, path or object (or no access to a private one)."""


class Unauthorized(GitHubError, SourceUnavailable):
    """401 bad credentials, or 403 missing permission: retrying will not help."""


class RateLimited(GitHubError, SourceUnavailable):
    """A primary or secondary rate limit whose wait does not fit the request's budget."""

    def __init__(self, message: str, *, retry_after: float, status: int | None = None) -> None:
        super().__init__(message, status=status)
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
        owner, _, name = repo.partition("/")
        if not owner or not name or "/" in name:
            raise ValueError(f"repo must be 'owner/name', got {repo!r}")
        self.repo, self.base_url, self.timeout = repo, base_url.rstrip("/"), timeout
        self.max_wait, self.max_retries, self.backoff = max_wait, max_retries, backoff
        self.sleep = sleep  # how retries wait; tests pass one that records instead of sleeping
        self._token = token
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
        self.calls = 0  # HTTP requests sent, retries included: what the rate limit sees
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
        url, waited, attempt = self.base_url + self._prefix + path, 0.0, 0
        while True:
            attempt += 1
            self.calls += 1
            self.calls_by_endpoint[endpoint] += 1
            try:
                resp = self.session.request(method, url, timeout=self.timeout, **kwargs)
            except requests.RequestException as exc:
                retry = self._transport_retry(method, exc, attempt)
            else:
                self._record_rate_limit(resp)
                retry = self._classify(resp, where, attempt)
                if retry is None:
                    return resp
                resp.close()
            if attempt > self.max_retries or waited + retry.delay > self.max_wait:
                raise self._give_up(retry, where, attempt)
            self.sleep(retry.delay)
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

    def _classify(self, resp: requests.Response, where: str, attempt: int) -> _Retry | None:
        """None for success; a _Retry for a retryable answer; raises for final errors."""
        status = resp.status_code
        if status < 400:
            return None
        message = self._scrub(_message(resp))
        if status == 401:
            raise Unauthorized(f"GitHub rejected the token (401) for {where}", status=401)
        if status in (403, 429):
            wait = _rate_limit_wait(resp, message)
            if wait is not None:
                return _Retry(wait, f"rate limited ({status}: {message})", rate_limited=True, status=status)
            raise Unauthorized(f"GitHub refused access ({status}) for {where}: {message}", status=status)
        if status == 404:
            raise NotFound(f"Not found (404): {where}", status=404)
        if status == 409 or (status == 422 and "sha" in message):
            raise Conflict(f"Conflict ({status}) for {where}: {message}", status=status)
        if status >= 500:
            return _Retry(self._backoff(attempt), f"HTTP {status}", rate_limited=False, status=status)
        raise GitHubError(f"GitHub answered {status} for {where}: {message}", status=status)

    def _give_up(self, retry: _Retry, where: str, attempt: int) -> GitHubError:
        if retry.rate_limited:
            return RateLimited(
                f"GitHub {retry.reason} for {where}; retry after {retry.delay:.0f} s",
                retry_after=retry.delay,
                status=retry.status,
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


def _rate_limit_wait(resp: requests.Response, message: str) -> float | None:
    """Seconds to wait for a rate-limited 403/429, or None if it is not a rate limit (GITHUB.md 6)."""
    retry_after = _float(resp.headers.get("retry-after"))
    if retry_after is not None:
        return max(retry_after, 0.0)
    if resp.headers.get("x-ratelimit-remaining") == "0":
        reset = _float(resp.headers.get("x-ratelimit-reset")) or time.time()
        return max(reset - time.time(), 0.0) + 0.1  # reset is whole seconds; a little past it
    if "rate limit" in message.lower() or resp.status_code == 429:
        return 60.0  # secondary limit without Retry-After: at least one minute
    return None


def _message(resp: requests.Response) -> str:
    try:
        data = resp.json()
    except ValueError:
        return resp.text[:200].strip()
    return str(data.get("message", "")) if isinstance(data, dict) else ""


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
