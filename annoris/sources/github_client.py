"""A plain GitHub REST client: one method per endpoint, typed errors, bounded retries.

No Django here. Every request carries a timeout; rate limits and ``Retry-After`` are honoured
within a per-request wait budget (``max_wait``); 5xx and network errors are retried with
backoff and jitter. The token is never logged. Reading answers: ``github_answers``."""

from __future__ import annotations

import base64
import random
import tarfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
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
from annoris.sources.github_answers import (
    Branch,
    ContentFile,
    NotModified,
    RateLimit,
    Retry,
    Tree,
    TreeEntry,
    client_error_hint,
    decode_content,
    gave_up,
    not_found_hint,
    permission_hint,
    rate_limit_of,
    rate_limit_wait,
    said,
)

DOCS = "https://docs.github.com/en/rest"


# GitHub's failures are the sources' errors, with GitHub's own words attached (SourceError's
# status, github_message, errors, documentation_url, hint, retry_after): one "not found" and
# one "unavailable" for the whole sources layer. The names say what each is for GitHub.
GitHubError = SourceError
NotFound = SourceNotFound  # 404: no such repository, branch, path or object (or no access)
Unauthorized = SourceForbidden  # 401 bad credentials, or 403 missing permission
Conflict = SourceConflict  # 409, or 422 about the sha: the file changed since the SHA the writer knew
Unavailable = SourceUnavailable  # 5xx after retries, connection errors, timeouts; a rate limit
RateLimited = SourceUnavailable  # a rate limit whose wait does not fit the budget (retry_after set)


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
        return decode_content(data)

    def get_contents(self, path: str, *, ref: str) -> ContentFile:
        """One file at ``ref`` through the Contents API.

        Reference: https://docs.github.com/en/rest/repos/contents#get-repository-content
        """
        data = self._json("GET", f"/contents/{quote(path)}", endpoint="contents", params={"ref": ref})
        if isinstance(data, list) or data.get("type") != "file":
            raise NotFound(f"{path} is not a file at {ref}", status=200)
        # Over 1 MB the JSON carries no content (encoding "none"); the blob endpoint serves it.
        content = self.get_blob(data["sha"]) if data.get("encoding") == "none" else decode_content(data)
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

    def list_commits(self, *, path: str, ref: str, since: str | None = None, per_page: int = 10) -> list[str]:
        """SHAs of the commits on ``ref`` that touched ``path`` (after ``since``), newest first.

        Reference: https://docs.github.com/en/rest/commits/commits#list-commits
        """
        params = {"sha": ref, "path": path, "per_page": str(per_page), **({"since": since} if since else {})}
        data = self._json("GET", "/commits", endpoint="commits", params=params)
        return [item["sha"] for item in data if isinstance(item, dict) and "sha" in item]

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
                    self.rate_limit = rate_limit_of(hop) or self.rate_limit
                retry = self._classify(resp, where, attempt, limited)
                if retry is None:
                    return resp
                resp.close()
            limited += retry.rate_limited
            if attempt > self.max_retries or waited + retry.delay > self.max_wait:
                raise gave_up(retry, where, attempt, self.max_wait)
            self._sleep(retry.delay)
            waited += retry.delay

    def _transport_retry(self, method: str, exc: requests.RequestException, attempt: int) -> Retry:
        # A PUT/DELETE that timed out while reading may have committed: retrying it would
        # turn success into a 409, so only a failed connect is retried for writes.
        if method in {"PUT", "DELETE"} and not isinstance(exc, requests.ConnectTimeout):
            return Retry(float("inf"), type(exc).__name__, rate_limited=False, sent=True)
        return Retry(self._backoff(attempt), type(exc).__name__, rate_limited=False)

    def _backoff(self, attempt: int) -> float:
        """Exponential backoff (backoff, 2x, 4x ... capped at 30 s) with +-50% jitter."""
        return min(self.backoff * 2 ** (attempt - 1), 30.0) * random.uniform(0.5, 1.5)

    def _classify(self, resp: requests.Response, where: str, attempt: int, limited: int = 0) -> Retry | None:
        """None for success; a Retry for a retryable answer; raises for final errors."""
        status = resp.status_code
        if status < 400:
            return None
        answer = said(resp, self._scrub)
        message = answer.message
        if status == 401:
            hint = "Check the token (GITHUB_TOKEN): it is wrong, expired or revoked"
            raise Unauthorized(
                f"GitHub rejected the token (401) for {where}: {answer.text(hint)}",
                status=401,
                **answer.details(hint),
            )
        if status in (403, 429):
            wait = rate_limit_wait(resp, message, limited)
            if wait is not None:
                reason = f"rate limited ({status}: {message or 'no message'})"
                if (
                    resp.headers.get("x-ratelimit-remaining") == "0"
                    and "x-ratelimit-reset" not in resp.headers
                ):
                    reason += "; no reset time given, so waiting at least a minute"
                return Retry(wait, reason, rate_limited=True, status=status, details=answer.details(""))
            hint = permission_hint(self.repo, resp)
            raise Unauthorized(
                f"GitHub refused access ({status}) for {where}: {answer.text(hint)}",
                status=status,
                **answer.details(hint),
            )
        if status == 404:
            hint = not_found_hint(self.repo, where, message)
            raise NotFound(
                f"Not found (404): {where}: {answer.text(hint)}", status=404, **answer.details(hint)
            )
        if status == 409 or (status == 422 and "sha" in message):
            hint = "The file changed since the SHA this write was based on: read it again"
            raise Conflict(
                f"Conflict ({status}) for {where}: {answer.text(hint)}", status=status, **answer.details(hint)
            )
        if status >= 500:
            return Retry(self._backoff(attempt), f"HTTP {status}", rate_limited=False, status=status)
        hint = client_error_hint(status)
        raise GitHubError(
            f"GitHub answered {status} for {where}: {answer.text(hint)}",
            status=status,
            **answer.details(hint),
        )

    def _scrub(self, text: str) -> str:
        """Keep the token out of messages even if a server echoed it."""
        return text.replace(self._token, "***") if self._token else text
