"""Where gunicorn answers before the app (issue #20, smaller findings), with the Procfile's
gunicorn and its gunicorn.conf.py: the API's JSON 414 answers a long query before gunicorn's
HTML one, and gunicorn's error log never prints a query string, even for a request it killed."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
import requests

from annoris.api import tokens
from annoris.testing.github_emulator import GitHubEmulator
from sessions_app.tests.writes.processes import serving, web_env

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_a_long_query_gets_the_apis_json_414_not_gunicorns_html(
    github: GitHubEmulator, tmp_path: Path
) -> None:
    token = tokens.issue(name="reader")[1]
    with serving(web_env(github), tmp_path / "web.log", config=True) as web:
        response = requests.get(
            f"{web.url}/api/sessions/", params={"q": "x" * 6000},
            headers={"Authorization": f"Bearer {token}"}, timeout=30,
        )  # fmt: skip
    assert response.status_code == 414
    assert response.headers["Content-Type"].startswith("application/json")
    assert response.json()["code"] == "uri_too_long"


def test_the_error_log_of_a_killed_request_names_no_query(github: GitHubEmulator, tmp_path: Path) -> None:
    token = tokens.issue(name="reader")[1]
    github.hang(None)  # GitHub never answers: the read of an unknown id waits on it
    env = web_env(github, GUNICORN_TIMEOUT="2", ANNORIS_SOURCE_TIMEOUT="20", ANNORIS_SOURCE_RETRIES="0")
    log = tmp_path / "web.log"
    with serving(env, log, config=True) as web:
        try:
            requests.get(
                f"{web.url}/api/sessions/{uuid.uuid4()}/", params={"q": "hunter2secret"},
                headers={"Authorization": f"Bearer {token}"}, timeout=15,
            )  # fmt: skip
        except requests.RequestException:
            pass  # gunicorn killed the worker mid-request
    github.release()
    text = log.read_text(errors="replace")
    assert "WORKER TIMEOUT" in text and "Error handling request" in text, text[-2000:]
    assert "hunter2secret" not in text
