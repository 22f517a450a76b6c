"""Issue #20's findings 5, 6, 8, 11 and 13 through a real gunicorn (gunicorn.conf.py) on
PostgreSQL with the GitHub emulator, and for 8 and 11 the real commands around it:
``manage.py sync_github --full`` and ``manage.py worker`` (qcluster).

The same findings have in-process tests beside them (test_secret_surfaces, test_bom_identity,
test_pending_create, annoris/tests/test_api_hostile_input); these check what a client over
HTTP gets from a deployed worker process: its stack, its parsers, its logs.
"""

from __future__ import annotations

import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
import requests

from annoris.api import tokens
from annoris.testing.github_emulator import GitHubEmulator
from sessions_app.models import PendingWrite
from sessions_app.tests.writes.conftest import a_session, commit_count, file_at, writes_received
from sessions_app.tests.writes.processes import ROOT, serving, tuned_env, web_env, working
from sessions_app.tests.writes.test_secret_surfaces import LEAKS

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

SHAPE = {"detail", "code", "errors"}
MCP_HEADERS = {"Accept": "application/json, text/event-stream", "MCP-Protocol-Version": "2025-06-18"}


def _writer() -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens.issue(name='writer', scope=tokens.WRITE)[1]}"}


def _json_error(response: requests.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text[:300]
    assert response.headers["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == SHAPE and body["code"] == code
    return body


def test_deep_json_is_a_json_400_in_a_real_worker(github: GitHubEmulator, tmp_path: Path) -> None:
    """Finding 6: 200 KB of brackets raised RecursionError in the parser: a 500."""
    auth, log = _writer(), tmp_path / "web.log"
    deep = "[" * 100_000 + "]" * 100_000
    with serving(web_env(github), log, config=True) as web:
        answers = [
            requests.post(
                f"{web.url}{url}", data=deep, headers={**auth, "Content-Type": "application/json"}, timeout=30
            )
            for url in ("/api/sessions/", "/api/projects/")
        ]
        after = requests.get(f"{web.url}/api/sessions/", headers=auth, timeout=30)
    for answer in answers:
        assert "levels deep" in _json_error(answer, 400, "parse_error")["detail"]
    assert after.status_code == 200
    text = log.read_text(errors="replace")
    assert "RecursionError" not in text and "Traceback" not in text
    assert text.count("Booting worker") == 1  # no worker died for it


def test_unknown_urls_with_unsafe_methods_are_json_404s(github: GitHubEmulator, tmp_path: Path) -> None:
    """Finding 13: a valid token's POST or PUT to an unknown URL answered 403 "CSRF token missing"."""
    auth = _writer()
    with serving(web_env(github), tmp_path / "web.log", config=True) as web:
        answers = [
            requests.request(method, f"{web.url}{url}", json={"content": "# x\n"}, headers=auth, timeout=30)
            for method, url in [
                ("POST", "/api/sessions"),
                ("POST", "/api/nope/"),
                ("PUT", "/api/sessions/not-a-uuid/"),
            ]
        ]
    for answer in answers:
        assert "CSRF" not in _json_error(answer, 404, "not_found")["detail"]


def test_every_secret_is_refused_over_http_and_mcp_and_reaches_neither_github_nor_the_log(
    gh: GitHubEmulator, tmp_path: Path
) -> None:
    """Finding 5: each credential shape that reached GitHub, sent to a real worker as a REST
    create, a REST PUT and an MCP save_session."""
    row, auth, log = a_session("redis"), _writer(), tmp_path / "web.log"
    commits = commit_count(gh)
    wrong = []
    with serving(web_env(gh), log, config=True) as web:
        for name, (kind, line, value) in LEAKS.items():
            document = f"# Deploy notes\n\nSome context.\n{line}\nMore text.\n"
            sessions = f"{web.url}/api/sessions/"
            rest = [
                requests.post(sessions, json={"content": document}, headers=auth, timeout=30),
                requests.put(
                    f"{sessions}{row.id}/", json={"content": document},
                    headers={**auth, "If-Match": row.github_sha}, timeout=30,
                ),
            ]  # fmt: skip
            call = {
                "jsonrpc": "2.0", "id": 1, "method": "tools/call",
                "params": {"name": "save_session", "arguments": {"markdown": document}},
            }  # fmt: skip
            mcp = requests.post(f"{web.url}/mcp", json=call, headers={**auth, **MCP_HEADERS}, timeout=30)
            for answer in rest:
                if answer.status_code != 422 or kind not in answer.text or value in answer.text:
                    wrong.append((name, answer.request.method, answer.status_code, answer.text[:200]))
            result = mcp.json().get("result", {}) if mcp.status_code == 200 else {}
            if not result.get("isError") or kind not in str(result) or value in mcp.text:
                wrong.append((name, "MCP save_session", mcp.status_code, mcp.text[:200]))
    assert not wrong
    assert writes_received(gh) == 0 and commit_count(gh) == commits
    text = log.read_text(errors="replace")
    assert not [name for name, (_, _, value) in LEAKS.items() if value in text]


BOM = "\ufeff"


def test_a_bom_hides_no_id_change_from_a_real_worker_or_the_full_sync(
    gh: GitHubEmulator, tmp_path: Path
) -> None:
    """Finding 8: a PUT starting with a BOM changed the front matter id (200 where the same
    change without it is 422); after ``sync_github --full`` the old id answered 404."""
    row, auth = a_session("webhook-hmac"), _writer()
    env = web_env(gh)
    with serving(env, tmp_path / "web.log", config=True) as web:
        url = f"{web.url}/api/sessions/{row.id}/"
        taken = f"{BOM}---\nid: {uuid.uuid4()}\ntitle: Taken over\n---\n# Taken over\n"
        refused = requests.put(
            url, json={"content": taken}, headers={**auth, "If-Match": row.github_sha}, timeout=30
        )
        kept = f"{BOM}---\nid: {row.id}\ntitle: Still mine\n---\n# Still mine\n"
        written = requests.put(
            url, json={"content": kept}, headers={**auth, "If-Match": row.github_sha}, timeout=30
        )
        sync = subprocess.run(  # noqa: S603 - our own command, as an operator runs it
            [sys.executable, "manage.py", "sync_github", "--full"],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
        read = requests.get(url, headers=auth, timeout=30)

    assert refused.status_code == 422, refused.text
    assert refused.json()["errors"]["content"] == [f"The id must stay {row.id}."]
    assert written.status_code == 200, written.text
    assert sync.returncode == 0, sync.stdout + sync.stderr
    assert read.status_code == 200 and read.json()["title"] == "Still mine"


def test_a_queued_create_is_read_and_patched_over_http_then_the_worker_lands_both(
    gh: GitHubEmulator, tmp_path: Path
) -> None:
    """Finding 11: a 202 create's id answered 404 to GET, PATCH and PUT until it landed."""
    auth = _writer()
    doc = "# Queued while GitHub is down\n\nDecided: the outbox keeps it.\n"
    gh.fail_next(100_000, status=503)
    env = tuned_env(gh)
    with serving(env, tmp_path / "web.log", config=True) as web:
        created = requests.post(
            f"{web.url}/api/sessions/", json={"content": doc, "project": "annoris"}, headers=auth, timeout=30
        )
        assert created.status_code == 202, created.text
        session_id, sha, path = created.json()["id"], created.json()["sha"], created.json()["path"]
        url = f"{web.url}/api/sessions/{session_id}/"
        read = requests.get(url, headers=auth, timeout=30)
        patched = requests.patch(
            url, json={"status": "✅ done"}, headers={**auth, "If-Match": sha}, timeout=30
        )
        gh.reset_faults()
        with working(env, tmp_path / "worker.log"):
            deadline = time.monotonic() + 30
            while PendingWrite.objects.exclude(status="landed").exists():
                assert time.monotonic() < deadline, list(PendingWrite.objects.values("status", "last_error"))
                time.sleep(0.2)
        final = requests.get(url, headers=auth, timeout=30)

    assert read.status_code == 200, read.text
    assert (
        read.json()["pending"] is True
        and read.json()["sha"] == sha
        and read.headers["X-Annoris-Pending"] == "true"
    )
    assert patched.status_code == 202, patched.text
    landed = file_at(gh, path)
    assert landed is not None and "status: ✅ done" in landed and "the outbox keeps it" in landed
    assert final.status_code == 200 and "pending" not in final.json()
    assert final.json()["sha"] == patched.json()["sha"]
