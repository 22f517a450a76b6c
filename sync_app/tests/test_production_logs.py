"""A full production run's logs: JSON lines, a request id on each request's lines, sync lines
with counts and duration, and not one secret or line of document text.

Everything runs for real with DEBUG off: `sync_github`, gunicorn from gunicorn.conf.py, a
django-q worker, API reads, an admin page that decrypts a session, a signed webhook that
the worker syncs. All their output is captured and searched.
"""

from __future__ import annotations

import json
import secrets
import time
import uuid
from pathlib import Path

import pytest
import requests

from annoris.testing.github_emulator import GitHubEmulator
from sync_app.tests.conftest import push_payload, sample_files
from sync_app.tests.stack import Stack, new_keyring
from sync_app.webhooks import signature_for

pytestmark = pytest.mark.slow

PRIVATE_PATH = "private/2025-11-01-private.md"
PRIVATE_LINE = "Sentinel body line 7f3a: the vault combination is 12-34-56."
CHANGED_LINE = "Sentinel body line 9c1e: moved the vault."
# Text from the sample sessions' bodies (after the sync repairs their encoding).
SAMPLE_TEXTS = ("забудем контекст", "Придётся делать заново", "Zero refactoring")


def _private(extra: str = "") -> bytes:
    head = "# Private plans\n\n**Date:** 2025-11-01\n**Status:** in progress\n\n"
    return f"{head}{PRIVATE_LINE}\n{extra}".encode()


@pytest.fixture
def run(tmp_path: Path):  # type: ignore[no-untyped-def]
    token = "ghp_" + secrets.token_hex(18)
    emulator = GitHubEmulator(tmp_path / "repo", token=token)
    emulator.commit_files(sample_files() | {PRIVATE_PATH: _private()}, message="seed")
    keyring, key = new_keyring()
    secrets_used = {
        "secret_key": secrets.token_urlsafe(50),
        "keyring": keyring,
        "key_b64": keyring.split(":", 1)[1],
        "github_token": token,
        "webhook_secret": "whsec-" + secrets.token_hex(16),
        "admin_password": "pw-" + secrets.token_urlsafe(16),
    }
    with emulator:
        stack = Stack(
            tmp_path,
            {
                "DEBUG": "0",
                "SECRET_KEY": secrets_used["secret_key"],
                "ANNORIS_ENCRYPTION_KEYS": keyring,
                "ALLOWED_HOSTS": "127.0.0.1",
                "SESSIONS_SOURCE": "github",
                "GITHUB_API_URL": emulator.base_url,
                "GITHUB_REPO": emulator.full_name,
                "GITHUB_TOKEN": token,
                "GITHUB_WEBHOOK_SECRET": secrets_used["webhook_secret"],
                "LOG_LEVEL": "DEBUG",
                # Plain HTTP in the test: the proxy header says https; cookies may travel over http.
                "SESSION_COOKIE_SECURE": "0",
                "CSRF_COOKIE_SECURE": "0",
                "WEB_CONCURRENCY": "1",
                "Q_WORKERS": "1",
            },
        )
        try:
            yield stack, emulator, secrets_used
        finally:
            stack.stop()


def test_a_full_run_logs_json_with_request_ids_and_no_secret_or_text(run) -> None:  # type: ignore[no-untyped-def]
    stack, emulator, used = run
    stack.manage("migrate", "--noinput")
    stack.manage("collectstatic", "--noinput")
    stack.create_superuser("admin", used["admin_password"])
    api_token = stack.manage("api_token", "create", "logs", "--scope", "write").stdout.split()[-1]
    stack.manage("sync_github")
    stack.start_web(gunicorn=True)
    stack.start_worker()
    https = {"X-Forwarded-Proto": "https"}  # as the TLS-terminating proxy sets it
    api = {"Authorization": f"Bearer {api_token}"} | https

    # API reads: the list, the private session (its text is in the answer, never in a log), a 404.
    listed = requests.get(f"{stack.base_url}/api/sessions/", headers=api, timeout=10)
    assert listed.status_code == 200, listed.text
    private_id = next(
        s["id"] for s in listed.json()["results"] if s.get("github_path", s.get("path")) == PRIVATE_PATH
    )
    detail = requests.get(f"{stack.base_url}/api/sessions/{private_id}/", headers=api, timeout=10)
    assert detail.status_code == 200 and PRIVATE_LINE in detail.text
    missing = requests.get(f"{stack.base_url}/api/sessions/{uuid.uuid4()}/", headers=api, timeout=10)
    assert missing.status_code == 404
    missing_id = missing.headers["X-Request-ID"]
    # A proxy's own request id is kept, so the router's logs and ours can be matched.
    proxy_id = "router-" + uuid.uuid4().hex
    echoed = requests.get(f"{stack.base_url}/health", headers={"X-Request-ID": proxy_id}, timeout=10)
    assert echoed.headers["X-Request-ID"] == proxy_id

    # API write: the endpoint may not exist on this branch (405); whatever it answers is not a 500.
    new = {"path": "private/new.md", "content": f"# New\n\n{PRIVATE_LINE}\n"}
    wrote = requests.post(f"{stack.base_url}/api/sessions/", headers=api, json=new, timeout=10)
    assert wrote.status_code < 500, wrote.text

    # The admin: log in and open the private session (decrypted and rendered for the page).
    browser = requests.Session()
    browser.headers.update(https | {"Origin": f"https://127.0.0.1:{stack.port}",
                                    "Referer": f"https://127.0.0.1:{stack.port}/admin/login/"})  # fmt: skip
    browser.get(f"{stack.base_url}/admin/login/", timeout=10)
    login = browser.post(
        f"{stack.base_url}/admin/login/?next=/admin/",
        data={"username": "admin", "password": used["admin_password"],
              "csrfmiddlewaretoken": browser.cookies["csrftoken"]},
        timeout=10,
    )  # fmt: skip
    assert login.status_code == 200 and "Log out" in login.text, login.text[:500]
    page = browser.get(f"{stack.base_url}/admin/sessions_app/session/{private_id}/change/", timeout=10)
    assert page.status_code == 200 and "vault combination" in page.text

    # A push changes the private session; the signed webhook queues a sync the worker runs.
    emulator.commit_files({PRIVATE_PATH: _private(CHANGED_LINE)}, message="change")
    body = json.dumps(push_payload(emulator)).encode()
    hook = requests.post(
        f"{stack.base_url}/webhooks/github",
        data=body,
        headers=https | {"Content-Type": "application/json", "X-GitHub-Event": "push",
                         "X-GitHub-Delivery": str(uuid.uuid4()),
                         "X-Hub-Signature-256": signature_for(body, used["webhook_secret"])},
        timeout=10,
    )  # fmt: skip
    assert hook.status_code == 202, hook.text
    stack.wait_for("select id from sync_app_synclog where source = 'webhook' and status != 'running'")
    time.sleep(0.5)  # let the worker write its last lines
    stack.stop()

    # 1. Production logs are JSON, one object per line, from every process.
    records = []
    for name in stack.logs:
        for line in stack.read(name).splitlines():
            if line.strip():
                try:
                    records.append(json.loads(line))
                except ValueError:
                    pytest.fail(f"{name}: a log line is not JSON: {line!r}\n{stack.read(name)[:3000]}")
    assert records

    # 2. Every line of a request carries its id: the 404's read falling through to GitHub
    # (urllib3's lines, logged inside the request) and its access line.
    of_missing = {r["logger"] for r in records if r.get("request_id") == missing_id}
    assert "gunicorn.access" in of_missing and len(of_missing) >= 2, of_missing
    assert all(r["request_id"] != "-" for r in records if r["logger"] == "gunicorn.access")

    # 3. Every sync logs its start, counts and duration (the command's and the worker's).
    finished = [r for r in records if r["logger"] == "sync_app.engine" and "duration_ms" in r]
    assert len(finished) >= 2
    assert any(r["counts"].get("added") == 10 for r in finished)
    assert any(r["counts"].get("updated") == 1 for r in finished)
    assert sum(1 for r in records if r["message"].startswith("sync started")) >= 2

    # 4. No secret, token or document text anywhere in the logs.
    text = stack.all_logs()
    forbidden = {**used, "api_token": api_token, "private_line": PRIVATE_LINE, "changed_line": CHANGED_LINE}
    forbidden |= {f"sample: {t}": t for t in SAMPLE_TEXTS}
    leaked = [name for name, value in forbidden.items() if value in text]
    assert not leaked, f"found in the logs: {leaked}"
    assert "vault" not in text
