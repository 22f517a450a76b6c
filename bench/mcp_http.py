"""MCP over HTTP under gunicorn's sync workers (issue #8): a tools/call against the API read.

What is measured, and how:

* A database whose name contains ``bench`` (dropped and recreated on PostgreSQL; without
  DATABASE_URL a new SQLite file in the temp directory) is migrated, the shipped samples
  are synced into it with ``manage.py sync_github``, and a user with a token is created -
  all through subprocesses, as an operator would.
* gunicorn serves ``annoris.wsgi`` with 2 sync workers (as the Procfile does) on a free port.
* One HTTP/1.1 keep-alive client sends, alternating in ``--rounds`` blocks so machine drift
  hits both: the baseline ``GET /api/sessions/<id>`` (the REST read of one session) and an
  MCP ``tools/call read_session`` of the same session (JSON-RPC POST to ``/mcp``, stateless).
  Both authenticate with the same token and go through ``Session.objects.fetch``.
* Reported: median and p99 latency of each, and the MCP/API ratio of the medians.

Run from the project root::

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/annoris_mcp_bench \\
      REDIS_URL=redis://127.0.0.1:6379/12 .venv/bin/python bench/mcp_http.py
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import httpx2

ROOT = Path(__file__).resolve().parents[1]
ACCEPT = "application/json, text/event-stream"
TOKEN_SCRIPT = "from annoris.api import tokens; print(tokens.issue(name='bench')[1])"


def manage(env: dict[str, str], *args: str) -> str:
    command = [sys.executable, "manage.py", *args]
    return subprocess.run(command, cwd=ROOT, env=env, check=True, capture_output=True, text=True).stdout


def prepare(env: dict[str, str]) -> str:
    """A fresh bench database with the samples synced; the token's key."""
    url = env["DATABASE_URL"]
    if "bench" not in url:
        sys.exit("DATABASE_URL must name a database containing 'bench' (it is recreated)")
    if url.startswith("postgres"):
        base, name = url.rsplit("/", 1)
        import psycopg

        with psycopg.connect(f"{base}/postgres", autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
            admin.execute(f'CREATE DATABASE "{name}"')
    else:
        Path(url.removeprefix("sqlite:///")).unlink(missing_ok=True)
    manage(env, "migrate", "--noinput")
    manage(env, "sync_github")
    return manage(env, "shell", "-c", TOKEN_SCRIPT).split()[-1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def timed(call: Callable[[], httpx2.Response], count: int, into: list[float], expect: bytes) -> None:
    for _ in range(count):
        started = time.perf_counter_ns()
        response = call()
        into.append((time.perf_counter_ns() - started) / 1e6)
        if response.status_code != 200 or b'"isError":true' in response.content:
            sys.exit(f"unexpected answer {response.status_code}: {response.text[:300]}")
        if expect not in response.content:  # the session asked for, not some other 200
            sys.exit(f"the answer does not hold {expect!r}: {response.text[:300]}")


def p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=10, help="Alternating blocks (default 10).")
    parser.add_argument(
        "--per-round", type=int, default=100, help="Requests per block and kind (default 100)."
    )
    args = parser.parse_args()
    env = {**os.environ, "DEBUG": "0", "SECRET_KEY": "bench-" + "x" * 40, "ALLOWED_HOSTS": "127.0.0.1"}
    env["SECURE_SSL_REDIRECT"] = "0"  # plain HTTP on loopback, as behind the TLS proxy: no 301 timed
    env.setdefault("ANNORIS_ENCRYPTION_KEYS", manage({**os.environ}, "generate_key").split()[-1])
    env.setdefault("DATABASE_URL", f"sqlite:///{Path(tempfile.gettempdir()) / 'annoris-bench-mcp.sqlite3'}")
    env["SESSIONS_SOURCE"] = str(ROOT / "samples" / "sessions")
    token = prepare(env)
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "annoris.wsgi", "-w", "2", "-b", f"127.0.0.1:{port}"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        return run(f"http://127.0.0.1:{port}", token, args)
    finally:
        server.terminate()
        server.wait(timeout=10)


def run(base: str, token: str, args: argparse.Namespace) -> int:
    client = httpx2.Client(headers={"Authorization": f"Bearer {token}"}, timeout=30)
    for _ in range(100):
        try:
            sessions = client.get(f"{base}/api/sessions/").json()["results"]
            break
        except httpx2.TransportError:
            time.sleep(0.1)
    sid = sessions[0]["id"]
    call = {"jsonrpc": "2.0", "id": 1, "method": "tools/call",
            "params": {"name": "read_session", "arguments": {"id": sid}}}  # fmt: skip
    api = lambda: client.get(f"{base}/api/sessions/{sid}/")  # noqa: E731
    mcp = lambda: client.post(f"{base}/mcp", json=call, headers={"Accept": ACCEPT})  # noqa: E731
    api_ms: list[float] = []
    mcp_ms: list[float] = []
    expect = sid.encode()
    timed(api, 50, [], expect)  # warm both workers: URLconf, the SDK import, connections
    timed(mcp, 50, [], expect)
    for _ in range(args.rounds):
        timed(api, args.per_round, api_ms, expect)
        timed(mcp, args.per_round, mcp_ms, expect)
    a, m = statistics.median(api_ms), statistics.median(mcp_ms)
    print("| request | median ms | p99 ms |\n|---|---|---|")
    print(f"| GET /api/sessions/<id> | {a:.2f} | {p99(api_ms):.2f} |")
    print(f"| MCP tools/call read_session | {m:.2f} | {p99(mcp_ms):.2f} |")
    print(f"\nMCP / API median: {m / a:.2f}x ({len(api_ms)} requests each, gunicorn 2 sync workers)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
