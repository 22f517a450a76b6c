"""MCP ``tools/list`` with an OAuth access token against a static API token, same run (issue #16).

What is measured, and how:

* A database whose name contains ``bench`` (dropped and recreated on PostgreSQL; without
  DATABASE_URL a new SQLite file in the temp directory) is migrated and the shipped samples
  synced, through subprocesses. One static API token (``read``) and one OAuth access token
  (``read``, bound to this server's ``/mcp``) are issued; the OAuth one is written through
  django-oauth-toolkit's models as its token endpoint would (hashed, with its refresh token
  and connection), since the consent flow itself is not what is measured here.
* gunicorn serves ``annoris.wsgi`` with 2 sync workers on a free port (``ANNORIS_PUBLIC_URL``
  is that loopback URL; ``ANNORIS_TOKEN_RECHECK`` keeps its default of 30 s).
* One keep-alive client sends ``POST /mcp`` ``tools/list``, alternating static and OAuth in
  ``--rounds`` blocks of ``--per-round`` requests so machine drift hits both. Every answer
  is checked (200, a JSON-RPC result naming the tools) before it counts.
* Reported: requests/s of each (sequential client: 1 / mean latency), and OAuth/static.
  Target: OAuth within 10% of static.

Run from the project root (smoke run: ``--rounds 2 --per-round 20``)::

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/annoris_oauth_bench \\
      .venv/bin/python bench/mcp_oauth.py
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import httpx2

sys.path.insert(0, str(Path(__file__).resolve().parent))
from mcp_http import free_port, manage, prepare  # noqa: E402  (the same database preparation)

ROOT = Path(__file__).resolve().parents[1]
ACCEPT = "application/json, text/event-stream"
TARGET = 0.90
OAUTH_SCRIPT = """
import uuid
from datetime import timedelta
from django.conf import settings
from django.contrib.auth.models import User
from django.utils import timezone
from oauth2_provider.models import AccessToken, Application, RefreshToken, set_token_value
from oauthlib.common import generate_token
from annoris.api.tokens import digest_of
from annoris.oauth.models import Connection

user = User.objects.create_user("bench-person", is_staff=True)
app = Application.objects.create(name="bench client", client_type="public",
    authorization_grant_type="authorization-code", redirect_uris="http://127.0.0.1:1/cb")
resource = [settings.ANNORIS_PUBLIC_URL + "/mcp"]
raw, raw_refresh, family = generate_token(), generate_token(), uuid.uuid4()
access = AccessToken(user=user, application=app, scope="read", resource=resource,
    expires=timezone.now() + timedelta(hours=1))
set_token_value(access, raw)
access.save()
refresh = RefreshToken(user=user, application=app, access_token=access, token_family=family,
    resource=resource)
set_token_value(refresh, raw_refresh)
refresh.save()
Connection.objects.create(user=user, application=app, scope="read", resource=resource[0],
    code_digest=digest_of(generate_token()), token_family=family)
print(raw)
"""


def timed(call: Callable[[], httpx2.Response], count: int) -> float:
    """Seconds for ``count`` calls, each answer checked first."""
    started = time.perf_counter()
    for _ in range(count):
        response = call()
        if response.status_code != 200 or b'"name":"save_session"' not in response.content.replace(b" ", b""):
            sys.exit(f"unexpected answer {response.status_code}: {response.text[:300]}")
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=10, help="Alternating blocks (default 10).")
    parser.add_argument(
        "--per-round", type=int, default=200, help="Requests per block and kind (default 200)."
    )
    args = parser.parse_args()
    port = free_port()
    env = {
        **os.environ, "DEBUG": "0", "SECRET_KEY": "bench-" + "x" * 40, "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "0", "ANNORIS_PUBLIC_URL": f"http://127.0.0.1:{port}",
    }  # fmt: skip
    env.setdefault("ANNORIS_ENCRYPTION_KEYS", manage({**os.environ}, "generate_key").split()[-1])
    env.setdefault("DATABASE_URL", f"sqlite:///{Path(tempfile.gettempdir()) / 'annoris-bench-oauth.sqlite3'}")
    env["SESSIONS_SOURCE"] = str(ROOT / "samples" / "sessions")
    static = prepare(env)
    oauth = manage(env, "shell", "-c", OAUTH_SCRIPT).split()[-1]
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "annoris.wsgi", "-w", "2", "-b", f"127.0.0.1:{port}"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        return run(f"http://127.0.0.1:{port}", static, oauth, args)
    finally:
        server.terminate()
        server.wait(timeout=10)


def run(base: str, static: str, oauth: str, args: argparse.Namespace) -> int:
    http = httpx2.Client(timeout=30)
    body = {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}

    def call(token: str) -> Callable[[], httpx2.Response]:
        headers = {"Authorization": f"Bearer {token}", "Accept": ACCEPT}
        return lambda: http.post(f"{base}/mcp", json=body, headers=headers)

    for _ in range(100):
        try:
            http.get(f"{base}/health")
            break
        except httpx2.TransportError:
            time.sleep(0.1)
    timed(call(static), 50)  # warm both workers: URLconf, the SDK import, both token memories
    timed(call(oauth), 50)
    seconds = {"static": 0.0, "oauth": 0.0}
    for _ in range(args.rounds):
        seconds["static"] += timed(call(static), args.per_round)
        seconds["oauth"] += timed(call(oauth), args.per_round)
    count = args.rounds * args.per_round
    rate = {kind: count / spent for kind, spent in seconds.items()}
    ratio = rate["oauth"] / rate["static"]
    print("| token | requests/s | mean ms |\n|---|---|---|")
    for kind in ("static", "oauth"):
        print(f"| {kind} | {rate[kind]:.0f} | {1000 / rate[kind]:.2f} |")
    verdict = "PASS" if ratio >= TARGET else "FAIL"
    print(
        f"\nOAuth / static requests/s: {ratio:.2f} ({count} tools/list each) - {verdict} (target >= {TARGET})"
    )
    return 0 if ratio >= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
