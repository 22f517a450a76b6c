"""Where gunicorn answers before the app (issue #20, smaller findings), with the Procfile's
gunicorn and its gunicorn.conf.py: the API's JSON 414 answers a long query before gunicorn's
HTML one, the app's deadline answers a slow request in JSON before gunicorn's timeout aborts
its worker, a NUL in a header is a JSON 400 from the Procfile's worker class that echoes no
value, and gunicorn's error log never prints a query string."""

from __future__ import annotations

import json
import socket
import time
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


def test_oversized_headers_get_the_apis_json_431_before_gunicorns_own_one(
    github: GitHubEmulator, tmp_path: Path
) -> None:
    """gunicorn refuses past 100 headers or a header line of 8,190 bytes (its defaults); the API
    answers those itself, with its own detail, and gunicorn's limit waits at twice that."""
    auth = _bearer(tokens.issue(name="reader")[1])
    many = {f"X-Pad-{i}": "x" for i in range(120)}
    with serving(web_env(github), tmp_path / "web.log", config=True) as web:
        url = f"{web.url}/api/sessions/"
        long_line = requests.get(url, headers={**auth, "X-Pad": "x" * 9000}, timeout=30)
        too_many = requests.get(url, headers={**auth, **many}, timeout=30)
        at_limit = requests.get(url, headers={**auth, "X-Pad": "x" * 8000}, timeout=30)
        past_both = requests.get(url, headers={**auth, "X-Pad": "x" * 17_000}, timeout=30)

    for answer in (long_line, too_many):
        assert answer.status_code == 431, answer.text[:300]
        assert answer.headers["Content-Type"].startswith("application/json")
        assert answer.json()["code"] == "headers_too_large"
    assert "X-Pad header" in long_line.json()["detail"]
    assert at_limit.status_code == 200
    # Past gunicorn's own limit too: gunicorn refuses it, its worker class answers in JSON.
    assert past_both.status_code == 431 and past_both.headers["Content-Type"] == "application/json"
    assert past_both.json()["code"] == "headers_too_large"


def test_a_request_past_its_deadline_gets_a_json_503_before_gunicorn_aborts_it(
    github: GitHubEmulator, tmp_path: Path
) -> None:
    """gunicorn aborts a worker whose request outlasts ``timeout`` and answers its own HTML 500;
    the app stops the request first (annoris/deadline.py, at timeout / 2 for a 4 s timeout),
    answers JSON, and the worker is replaced after the answer."""
    token = tokens.issue(name="reader")[1]
    github.hang(None)  # GitHub never answers: reading an unknown id waits on it (3 s, twice)
    log = tmp_path / "web.log"
    with serving(web_env(github, GUNICORN_TIMEOUT="4"), log, config=True) as web:
        started = time.monotonic()
        response = requests.get(
            f"{web.url}/api/sessions/{uuid.uuid4()}/", params={"q": "hunter2secret"},
            headers={"Authorization": f"Bearer {token}"}, timeout=15,
        )  # fmt: skip
        took = time.monotonic() - started
        github.release()
        after = requests.get(f"{web.url}/api/sessions/", headers=_bearer(token), timeout=15)

    assert response.status_code == 503, response.text
    assert response.headers["Content-Type"].startswith("application/json")
    assert response.json()["code"] == "timeout" and response.headers["Retry-After"]
    assert took < 4  # answered before gunicorn's timeout
    assert after.status_code == 200  # a fresh worker serves the next request
    text = log.read_text(errors="replace")
    assert "WORKER TIMEOUT" not in text and "Error handling request" not in text, text[-2000:]
    assert "stopped at its 2 s deadline: GET /api/sessions/" in text
    assert text.count("Booting worker") == 2  # the stopped request's worker was replaced
    assert "hunter2secret" not in text


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _raw(url: str, request: bytes) -> bytes:
    """Send ``request`` as is on a new connection; everything the server answers before closing."""
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(request)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    return answer


def test_a_nul_in_a_header_is_a_json_400_that_echoes_nothing(github: GitHubEmulator, tmp_path: Path) -> None:
    """gunicorn refuses a NUL in a header value while parsing the request (Message.parse_headers),
    before any hook or the app runs; the Procfile's worker class (annoris/gunicorn_worker.py)
    answers it in the API's JSON shape instead of gunicorn's HTML page. It echoes no value (a
    NUL-laced token is neither logged nor reflected) and the worker keeps serving."""
    token = tokens.issue(name="reader")[1]
    log = tmp_path / "web.log"
    with serving(web_env(github), log, config=True) as web:
        refused = _raw(
            web.url,
            b"GET /api/sessions/ HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Authorization: Bearer " + token.encode() + b"\x00hunter2secret\r\n\r\n",
        )
        line = _raw(web.url, b"GET /api/search/?q=hunter2secret\x00 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        after = requests.get(f"{web.url}/api/sessions/", headers=_bearer(token), timeout=15)

    for answer in (refused, line):
        head, _, body = answer.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 400 "), answer[:300]
        assert b"Content-Type: application/json" in head and b"text/html" not in answer
        assert json.loads(body) == {
            "detail": "Malformed request: a header or the request line holds what HTTP does not allow.",
            "code": "bad_request",
            "errors": {},
        }
        assert token.encode() not in answer and b"hunter2secret" not in answer
    assert after.status_code == 200 and after.headers["Content-Type"].startswith("application/json")
    text = log.read_text(errors="replace")
    assert "Invalid HTTP Header: 'AUTHORIZATION'" in text
    assert token not in text and "hunter2secret" not in text


def test_the_error_log_names_no_query_of_a_request_gunicorn_refused(
    github: GitHubEmulator, tmp_path: Path
) -> None:
    """gunicorn logs a request line it cannot parse whole; the query in it is cut out."""
    log = tmp_path / "web.log"
    with serving(web_env(github), log, config=True) as web:
        refused = _raw(web.url, b"GET /api/search/?q=hunter2secret\x00 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    assert refused.startswith(b"HTTP/1.1 400 ")
    text = log.read_text(errors="replace")
    assert "Invalid HTTP request line: 'GET /api/search/?… HTTP/1.1'" in text, text[-2000:]
    assert "hunter2secret" not in text
