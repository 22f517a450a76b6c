"""GitHubEmulator: a real HTTP server speaking GitHub's REST API over a real git repository.

Run it in a test fixture or a benchmark script::

    with GitHubEmulator(tmp_path / "repo") as emu:
        emu.commit_files({"2025/10/20-notes.md": b"# Notes\\n"}, message="seed")
        client = GitHubClient(repo="acme/sessions", token=emu.token, base_url=emu.base_url)

Faults are injected for real (a status, a hang, a slow answer, an exhausted limit) so
the client's timeouts and retries are exercised over sockets, never through mocks.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import parse_qsl, unquote

import requests

from annoris.sources.github_client import GitHubClient
from annoris.testing.github_emulator import shapes
from annoris.testing.github_emulator.app import PRIMARY_LIMIT_MESSAGE, describe, dispatch
from annoris.testing.github_emulator.faults import Call, Failure, Faults, Late, RateLimiter
from annoris.testing.github_emulator.gitrepo import GitRepo
from annoris.testing.github_emulator.routes import Reply, Request
from annoris.testing.github_emulator.shapes import Urls


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, so the client's connection reuse is real
    # Headers and body go out in separate writes; without TCP_NODELAY, Nagle plus delayed
    # ACKs add ~40 ms to every keep-alive answer.
    disable_nagle_algorithm = True
    server: _Server

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        self._handle("GET")

    def do_PUT(self) -> None:  # noqa: N802
        self._handle("PUT")

    def do_DELETE(self) -> None:  # noqa: N802
        self._handle("DELETE")

    def do_POST(self) -> None:  # noqa: N802
        self._handle("POST")

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        """Silence per-request logging; tests read ``emu.calls`` instead."""

    def _handle(self, method: str) -> None:
        emu = self.server.emulator
        raw_path, _, query = self.path.partition("?")
        length = int(self.headers.get("content-length") or 0)
        headers = {k.lower(): v for k, v in self.headers.items()}
        req = Request(method, unquote(raw_path), dict(parse_qsl(query, keep_blank_values=True)), headers)
        req.body = self.rfile.read(length) if length else b""
        call = Call(method, *describe(req), path=req.path, status=0, headers=headers)
        emu._record(call)  # on arrival, so a request left hanging is still seen
        emu.faults.delay(req.path)
        late = emu.faults.take_late(method, req.path)
        if late is not None and late.when == "before":
            late.wait()
        if late is not None and late.drop:
            reply = Reply.error(504, "We couldn't respond to your request in time.")
        else:
            reply = dispatch(emu, req)
        if late is not None and late.when == "after":
            late.wait()
        call.status, call.not_modified = reply.status, reply.status == 304
        try:
            self._send(reply)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client gave up (a timeout test); nothing to answer

    def _send(self, reply: Reply) -> None:
        self.send_response(reply.status)
        for name, value in reply.headers.items():
            self.send_header(name, value)
        if isinstance(reply.body, bytes):
            self.send_header("content-length", str(len(reply.body)))
            self.end_headers()
            self.wfile.write(reply.body)
            return
        self.send_header("transfer-encoding", "chunked")  # archives are streamed, size unknown
        self.end_headers()
        for chunk in reply.body:
            self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        self.wfile.write(b"0\r\n\r\n")


class _Server(ThreadingHTTPServer):
    daemon_threads = True  # a hung request thread must never keep a test run alive
    emulator: GitHubEmulator


class GitHubEmulator:
    """GitHub's REST API for one repository ``owner/name``, served from ``repo_dir``."""

    def __init__(
        self,
        repo_dir: Path,
        *,
        owner: str = "acme",
        name: str = "sessions",
        token: str = "test-token",
        branch: str = "main",
    ) -> None:
        self.repo = GitRepo(Path(repo_dir), branch=branch)
        self.owner, self.name, self.token, self.branch = owner, name, token, branch
        self.tree_limit = 100_000  # entries per recursive tree before `truncated` (GITHUB.md 1)
        self.faults = Faults()
        self.limiter = RateLimiter()
        self.calls: list[Call] = []
        self._calls_lock = threading.Lock()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle --------------------------------------------------------------

    def start(self) -> GitHubEmulator:
        """Listen on 127.0.0.1 on a free port, serving from a daemon thread."""
        self._server = server = _Server(("127.0.0.1", 0), _Handler)
        server.emulator = self
        # A short poll interval makes stop() quick (shutdown waits for the next poll).
        serve = lambda: server.serve_forever(poll_interval=0.05)  # noqa: E731
        self._thread = threading.Thread(target=serve, name="github-emulator", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Release hung requests, stop listening and close the git helper."""
        self.faults.release()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        self.repo.close()

    def __enter__(self) -> GitHubEmulator:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        """What to pass as the client's ``base_url`` (stands in for https://api.github.com)."""
        assert self._server is not None, "start() the emulator first"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def urls(self) -> Urls:
        return Urls(self.base_url, self.owner, self.name)

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.name}"

    # -- repository helpers -------------------------------------------------------

    def client(self, **overrides: Any) -> GitHubClient:
        """A GitHubClient for this emulator with test-sized timeouts and backoff.

        Its HTTP session ignores proxy variables from the environment: 127.0.0.1 must
        never be routed through a proxy. ``overrides`` replace any constructor argument.
        """
        session = requests.Session()
        session.trust_env = False
        options: dict[str, Any] = {
            "repo": self.full_name,
            "token": self.token,
            "base_url": self.base_url,
            "session": session,
            "timeout": (1.0, 5.0),
            "max_wait": 5.0,
            "max_retries": 3,
            "backoff": 0.01,
        }
        return GitHubClient(**{**options, **overrides})

    def commit_files(self, files: Mapping[str, bytes | None], *, message: str = "Update sessions") -> str:
        """Commit ``{path: bytes}`` (None deletes) on the branch; returns the commit SHA."""
        return self.repo.commit_files(files, message=message)

    def head(self) -> str | None:
        """The branch's head commit SHA."""
        return self.repo.head()

    # -- faults and rate limits ------------------------------------------------------

    def fail_next(
        self,
        n: int = 1,
        status: int = 500,
        retry_after: float | None = None,
        body: object | None = None,
        path_prefix: str | None = None,
        headers: dict[str, str | None] | None = None,
    ) -> None:
        """Answer the next ``n`` requests (under ``path_prefix``) with ``status``.

        ``body`` is the JSON (or bytes) to answer, e.g. ``shapes.validation_failed([...])``;
        ``headers`` are set last, and a None value drops a header the emulator would send.
        """
        self.faults.fail_next(Failure(n, status, retry_after, body, path_prefix, dict(headers or {})))

    def primary_limit(
        self,
        n: int = 1,
        *,
        reset_header: bool = True,
        path_prefix: str | None = None,
        headers: dict[str, str | None] | None = None,
    ) -> None:
        """Refuse the next ``n`` requests as an exhausted primary limit: 403, GitHub's message,
        ``x-ratelimit-remaining: 0``; without ``x-ratelimit-reset`` when ``reset_header`` is False
        (a shape real GitHub answers now and then)."""
        body = shapes.error(PRIMARY_LIMIT_MESSAGE, 403, shapes.RATE_LIMIT_DOCS)
        limit_headers: dict[str, str | None] = {"x-ratelimit-remaining": "0"}
        if not reset_header:
            limit_headers["x-ratelimit-reset"] = None
        limit_headers.update(headers or {})
        self.fail_next(n, status=403, body=body, path_prefix=path_prefix, headers=limit_headers)

    def hang(self, seconds: float | None = None, path_prefix: str | None = None) -> None:
        """Accept requests but answer only after ``seconds`` (None: until release())."""
        self.faults.hang(seconds, path_prefix)

    def release(self) -> None:
        """End a hang."""
        self.faults.release()

    def apply_late(
        self,
        seconds: float | None,
        *,
        method: str | None = "PUT",
        path_prefix: str | None = None,
        n: int = 1,
        drop: bool = False,
    ) -> None:
        """Hold the next ``n`` matching requests ``seconds`` (None: until release()), then apply
        them: GitHub taking a write after the client timed out. ``drop``: answer 504 instead and
        never apply them."""
        self.faults.late(Late(n, method, path_prefix, seconds, when="before", drop=drop))

    def hold_answer(
        self, seconds: float | None, *, method: str | None = "PUT", path_prefix: str | None = None, n: int = 1
    ) -> None:
        """Apply the next ``n`` matching requests at once but hold their answers ``seconds``
        (None: until release()): the write landed and the client (or its process) never heard."""
        self.faults.late(Late(n, method, path_prefix, seconds, when="after"))

    def pending_calls(self) -> int:
        """Requests received and not answered yet (held, hanging or being handled)."""
        with self._calls_lock:
            return sum(1 for c in self.calls if c.status == 0)

    def slow(self, seconds: float) -> None:
        """Delay every answer by ``seconds`` (0 turns it off)."""
        self.faults.slow(seconds)

    def secondary_limit(self, n: int = 1, retry_after: float | None = 1) -> None:
        """Refuse the next ``n`` requests with a secondary-limit 403 (Retry-After unless None)."""
        self.faults.secondary_limit(n, retry_after)

    def set_rate_limit(self, remaining: int, reset_in: float = 3600.0, limit: int | None = None) -> None:
        """Set the primary limit's remaining budget, refilled ``reset_in`` seconds from now."""
        self.limiter.set(remaining=remaining, reset_in=reset_in, limit=limit)

    @property
    def rate_limit(self) -> int:
        """The primary limit per window (5,000 like an authenticated user)."""
        return self.limiter.limit

    @rate_limit.setter
    def rate_limit(self, value: int) -> None:
        self.limiter.set(remaining=value, reset_in=self.limiter.window, limit=value)

    def reset_faults(self) -> None:
        """Clear every injected fault (failures, hangs, slowness, secondary limits)."""
        self.faults.reset()

    # -- calls ---------------------------------------------------------------------------

    def _record(self, call: Call) -> None:
        with self._calls_lock:
            self.calls.append(call)

    def call_count(
        self, method: str | None = None, endpoint: str | None = None, *, include_304: bool = True
    ) -> int:
        """Requests received, filtered by method and endpoint (short name or path template)."""
        with self._calls_lock:
            return sum(
                1
                for c in self.calls
                if (method is None or c.method == method)
                and (endpoint is None or endpoint in (c.endpoint, c.template))
                and (include_304 or not c.not_modified)
            )

    def reset_calls(self) -> None:
        with self._calls_lock:
            self.calls.clear()
