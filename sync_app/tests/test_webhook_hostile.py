"""Signed webhook bodies that used to get a 500, a 503 or a 401 (issue 9, item 7).

A body nested 100,000 levels deep (RecursionError, 500); a NUL byte or a lone surrogate
in ``ref``/``after``/the delivery id (a database error answered 503 "database
unavailable"); a chunked request with no Content-Length (read as empty: 401). The
chunked case runs against a real gunicorn, since Django's test client never chunks.
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from annoris.testing.github_emulator import GitHubEmulator
from sync_app.models import WebhookDelivery
from sync_app.tests.conftest import WEBHOOK_SECRET, WEBHOOK_URL, push_payload
from sync_app.webhooks import MAX_JSON_DEPTH, json_depth, signature_for

Post = Callable[..., Any]
ROOT = Path(__file__).resolve().parents[2]


def test_it_measures_depth_without_counting_brackets_in_strings() -> None:
    assert json_depth("{}") == 1 and json_depth("3") == 0
    assert json_depth('{"a": [1, {"b": "[[[[{{{{"}], "c": "\\"]]]"}') == 3
    assert json_depth("[" * 100_000 + "]" * 100_000) == 100_000


@pytest.mark.django_db
@pytest.mark.parametrize("opener", ["[", '{"a":'])
def test_a_signed_body_nested_100000_deep_is_400_not_500(
    github: GitHubEmulator, post_webhook: Post, opener: str
) -> None:
    closer = "]" if opener == "[" else "}"
    body = ('{"ref": ' + opener * 100_000 + "1" + closer * 100_000 + "}").encode()
    response = post_webhook(body=body)
    assert response.status_code == 400
    assert f"the limit is {MAX_JSON_DEPTH}" in response.json()["detail"]
    assert not WebhookDelivery.objects.exists()


@pytest.mark.django_db
def test_a_form_encoded_deep_body_is_400_too(github: GitHubEmulator, post_webhook: Post) -> None:
    from urllib.parse import urlencode

    body = urlencode({"payload": "[" * 50_000 + "]" * 50_000}).encode()
    assert post_webhook(body=body, form=True).status_code == 400


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("ref", "refs/heads/ma\x00in"),
        ("ref", "refs/heads/\ud800"),
        ("after", "\x00" * 40),
        ("after", "abc\udfff"),
    ],
)
def test_a_signed_push_with_an_unstorable_string_is_400_not_503(
    github: GitHubEmulator, post_webhook: Post, field: str, value: str
) -> None:
    payload = push_payload(github, **{field: value})
    response = post_webhook(payload)  # json.dumps escapes NUL and surrogates: valid JSON
    assert response.status_code == 400, response.content
    assert field in response.json()["detail"]
    assert not WebhookDelivery.objects.exists()
    assert post_webhook(push_payload(github), delivery="d-after").status_code == 202  # the database is fine


@pytest.mark.django_db(transaction=True)
def test_a_delivery_id_with_a_nul_byte_is_400(github: GitHubEmulator, post_webhook: Post) -> None:
    response = post_webhook(push_payload(github), delivery="d-\x00-1")
    assert response.status_code == 400 and "X-GitHub-Delivery" in response.json()["detail"]


# -- chunked bodies through a real server -----------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def gunicorn() -> Iterator[tuple[str, int]]:
    """A real gunicorn serving the project (the production server, see Procfile)."""
    port = _free_port()
    env = {
        **os.environ,
        "GITHUB_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "GITHUB_WEBHOOK_MAX_BYTES": "4096",
        "DEBUG": "1",
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "annoris.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", "1"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else "gunicorn died"
                assert time.monotonic() < deadline, "gunicorn did not start"
                time.sleep(0.1)
        yield "127.0.0.1", port
    finally:
        proc.terminate()
        proc.wait(10)


def _post_chunked(
    server: tuple[str, int], body: bytes, *, event: str = "ping", signature: str | None = None
) -> tuple[int, dict[str, Any]]:
    """POST ``body`` in several chunks with Transfer-Encoding: chunked and no Content-Length."""
    conn = http.client.HTTPConnection(*server, timeout=10)
    pieces = [body[i : i + 97] for i in range(0, len(body), 97)] or [b""]
    conn.putrequest("POST", WEBHOOK_URL)
    for name, value in {
        "Content-Type": "application/json",
        "Transfer-Encoding": "chunked",
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": "chunked-1",
        "X-Hub-Signature-256": signature or signature_for(body, WEBHOOK_SECRET),
    }.items():
        conn.putheader(name, value)
    conn.endheaders()
    for piece in pieces:
        conn.send(b"%x\r\n%s\r\n" % (len(piece), piece))
    conn.send(b"0\r\n\r\n")
    response = conn.getresponse()
    data = json.loads(response.read() or b"{}")
    conn.close()
    return response.status, data


def test_a_chunked_delivery_is_read_whole(gunicorn: tuple[str, int]) -> None:
    body = json.dumps({"zen": "Keep it logically awesome.", "hook_id": 1, "pad": "x" * 1000}).encode()
    assert _post_chunked(gunicorn, body) == (200, {"detail": "pong"})


def test_a_chunked_body_is_verified_and_parsed(gunicorn: tuple[str, int]) -> None:
    body = b'{"zen": "unterminated'
    status, data = _post_chunked(gunicorn, body)
    assert status == 400 and "malformed JSON" in data["detail"]  # signed, read, then parsed
    status, data = _post_chunked(gunicorn, b'{"zen": 1}', signature="sha256=" + "0" * 64)
    assert status == 401 and "does not match" in data["detail"]


def test_a_chunked_body_over_the_limit_is_413(gunicorn: tuple[str, int]) -> None:
    body = json.dumps({"pad": "x" * 10_000}).encode()  # GITHUB_WEBHOOK_MAX_BYTES is 4096 there
    status, data = _post_chunked(gunicorn, body)
    assert status == 413 and "4096-byte limit" in data["detail"]


@pytest.mark.django_db(transaction=True)
def test_a_server_that_cannot_hand_over_a_chunked_body_answers_411_not_401(
    live_server: Any, settings: Any
) -> None:
    """Django's own server (runserver, LiveServer) gives the app no chunked body: say so."""
    settings.GITHUB_WEBHOOK_SECRET = WEBHOOK_SECRET
    host, port = live_server.url.removeprefix("http://").split(":")
    status, data = _post_chunked((host, int(port)), b'{"zen": "x"}')
    assert status == 411 and "Content-Length" in data["detail"]
