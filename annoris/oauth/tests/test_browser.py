"""A remote connector's whole flow in a real browser (issue #16, steps 1-10): Playwright drives
Debian's Chromium against gunicorn as the Procfile runs it, and the official MCP client calls
the tools with the token it got. Once registered dynamically (RFC 7591), once with a client
metadata document served by a local HTTPS server. No token may appear in any log of the run.

Screenshots (login, consent, admin) go to ``var/screenshots/oauth/`` (or ``$ANNORIS_SCREENSHOTS``).
"""

from __future__ import annotations

import os
import re
import shutil
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import anyio
import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from annoris.oauth.tests.cimd_server import DocumentServer
from annoris.oauth.tests.conftest import pkce
from sync_app.tests.stack import ROOT, Stack, free_port

CHROMIUM = Path("/usr/bin/chromium")
PASSWORD = "connector-Pa55word-" + os.urandom(4).hex()

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium"),
]


class Callback:
    """The client's loopback redirect target (RFC 8252): it keeps the query it receives."""

    def __init__(self) -> None:
        self.queries: list[dict[str, list[str]]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                if urlsplit(self.path).path == "/callback":  # not the browser's /favicon.ico
                    outer.queries.append(parse_qs(urlsplit(self.path).query))
                body = b"<!doctype html><title>Connected</title><h1>You can close this window.</h1>"
                self.send_response(200)
                self.send_header("Content-Type", "text/html")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/callback"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    tmp = tmp_path_factory.mktemp("connector")
    sessions = tmp / "sessions"
    shutil.copytree(ROOT / "samples" / "sessions", sessions)
    callback = Callback()
    documents = DocumentServer(tmp, callback.url).__enter__()
    port = free_port()
    stack = Stack(
        tmp,
        {
            "DEBUG": "1",  # ANNORIS_OAUTH_CIMD_ALLOW_LOOPBACK (the local document server) needs it
            "PORT": str(port),
            "ANNORIS_PUBLIC_URL": f"http://127.0.0.1:{port}",
            "ANNORIS_OAUTH_CIMD_ALLOW_LOOPBACK": "1",
            "SSL_CERT_FILE": str(documents.cert),  # trust the document server's certificate
            "ANNORIS_TOKEN_RECHECK": "1",  # revocation reaches both workers within a second
            "SESSIONS_SOURCE": str(sessions),
            "LOG_LEVEL": "DEBUG",  # the strictest log check: everything is written
        },
    )
    stack.port, stack.base_url = port, f"http://127.0.0.1:{port}"
    try:
        stack.manage("migrate", "--noinput")
        stack.manage("sync_github")
        stack.create_superuser("admin", PASSWORD)
        stack.start_web(gunicorn=True)
        yield {"stack": stack, "callback": callback, "documents": documents, "secrets": [PASSWORD]}
    finally:
        stack.stop()
        documents.__exit__()
        callback.close()


@pytest.fixture(scope="module")
def shots() -> Path:
    target = Path(os.environ.get("ANNORIS_SCREENSHOTS", ROOT / "var" / "screenshots")) / "oauth"
    target.mkdir(parents=True, exist_ok=True)
    return target


def _discover(base: str) -> dict[str, Any]:
    """Step 1: from /mcp's 401 to the authorization server's metadata, as a client does."""
    refused = httpx2.post(f"{base}/mcp", json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"}, timeout=30)
    assert refused.status_code == 401
    challenge = refused.headers["WWW-Authenticate"]
    assert 'scope="read write"' in challenge
    metadata_url = re.search(r'resource_metadata="([^"]+)"', challenge).group(1)  # type: ignore[union-attr]
    resource = httpx2.get(metadata_url, timeout=30).json()
    assert resource["resource"] == f"{base}/mcp" and resource["bearer_methods_supported"] == ["header"]
    issuer = resource["authorization_servers"][0]
    server = httpx2.get(f"{issuer}/.well-known/oauth-authorization-server", timeout=30).json()
    assert server["issuer"] == issuer and server["code_challenge_methods_supported"] == ["S256"]
    return {"resource": resource["resource"], **server}


def _tools(base: str, token: str, mode: str) -> tuple[set[str], Any]:
    async def go() -> tuple[set[str], Any]:
        http = httpx2.AsyncClient(headers={"Authorization": f"Bearer {token}"}, timeout=30.0)
        async with Client(streamable_http_client(f"{base}/mcp", http_client=http), mode=mode) as client:
            tools = {tool.name for tool in (await client.list_tools()).tools}
            return tools, await client.call_tool("list_projects", {})

    with ThreadPoolExecutor(1) as thread:  # Playwright's sync API holds this thread's event loop
        return thread.submit(anyio.run, go).result()


@pytest.mark.parametrize("registration", ["dynamic", "metadata-document"])
def test_a_connector_connects_in_chromium(world: dict[str, Any], shots: Path, registration: str) -> None:
    from playwright.sync_api import expect, sync_playwright

    stack: Stack = world["stack"]
    callback: Callback = world["callback"]
    base = stack.base_url
    server = _discover(base)  # 1

    if registration == "dynamic":  # 2
        registered = httpx2.post(
            server["registration_endpoint"],
            json={
                "client_name": "Claude",
                "redirect_uris": [callback.url],
                "grant_types": ["authorization_code", "refresh_token"],
                "token_endpoint_auth_method": "none",
            },
            timeout=30,
        )
        assert registered.status_code == 201, registered.text
        client_id = registered.json()["client_id"]
        world["secrets"].append(registered.json()["registration_access_token"])
    else:
        assert server["client_id_metadata_document_supported"] is True
        client_id = world["documents"].base_url + "/client.json"

    proof = pkce()
    world["secrets"].append(proof.verifier)
    state = "state-" + os.urandom(6).hex()
    query = {
        "response_type": "code", "client_id": client_id, "redirect_uri": callback.url, "scope": "read write",
        "state": state, "code_challenge": proof.challenge, "code_challenge_method": "S256",
        "resource": server["resource"],
    }  # fmt: skip
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1200, "height": 820}, locale="en-US")
        page.goto(f"{server['authorization_endpoint']}?{urlencode(query)}")  # 3

        expect(page.locator("#id_username")).to_be_visible()  # 4: the login page, in the admin's look
        page.screenshot(path=str(shots / f"{registration}-1-login.png"))
        page.fill("#id_username", "admin")
        page.fill("#id_password", PASSWORD)
        page.get_by_role("button", name="Log in").click()

        consent = page.locator("#consent-form")  # 5
        expect(consent).to_be_visible()
        text = page.locator("#content-main").inner_text()
        for shown in ("Read your sessions", "Write sessions to GitHub", "127.0.0.1", f"{base}/mcp"):
            assert shown in text
        assert ("Claude" if registration == "dynamic" else "Metadata Client") in text
        assert "token" not in text.lower()
        page.screenshot(path=str(shots / f"{registration}-2-consent.png"), full_page=True)
        page.get_by_role("button", name="Allow").click()

        expect(page.get_by_text("You can close this window")).to_be_visible()  # 6
        landed = callback.queries[-1]
        assert landed["state"] == [state] and landed["iss"] == [server["issuer"]]
        code = landed["code"][0]
        world["secrets"].append(code)

        exchanged = httpx2.post(  # 7
            server["token_endpoint"],
            data={"grant_type": "authorization_code", "code": code, "redirect_uri": callback.url,
                  "client_id": client_id, "code_verifier": proof.verifier},
            timeout=30,
        )  # fmt: skip
        assert exchanged.status_code == 200, exchanged.text
        issued = exchanged.json()
        world["secrets"] += [issued["access_token"], issued["refresh_token"]]
        assert issued["expires_in"] == 3600

        for mode in ("legacy", "2026-07-28"):  # 8: initialize (legacy handshake), tools/list, a call
            tools, result = _tools(base, issued["access_token"], mode)
            assert {"get_context", "save_session", "list_projects"} <= tools
            assert not result.is_error and "Annoris" in result.content[0].text

        refreshed = httpx2.post(  # 9
            server["token_endpoint"],
            data={
                "grant_type": "refresh_token",
                "refresh_token": issued["refresh_token"],
                "client_id": client_id,
            },
            timeout=30,
        )
        assert refreshed.status_code == 200, refreshed.text
        fresh = refreshed.json()
        world["secrets"] += [fresh["access_token"], fresh["refresh_token"]]
        assert _tools(base, fresh["access_token"], "2026-07-28")[1].is_error is False

        page.goto(f"{base}/admin/annoris_oauth/connection/?status=connected")  # 10
        row = page.locator("#result_list tbody tr").first
        expect(row).to_contain_text("Claude" if registration == "dynamic" else "Metadata Client")
        expect(row).to_contain_text("read, write")
        page.screenshot(path=str(shots / f"{registration}-3-connected-apps.png"), full_page=True)
        row.locator("input[name=_selected_action]").check()
        page.select_option("select[name=action]", "revoke")
        page.get_by_role("button", name="Go").click()
        expect(page.locator(".messagelist")).to_contain_text("Revoked 1 connected app")
        browser.close()

    time.sleep(1.5)  # ANNORIS_TOKEN_RECHECK: every worker asks the database again
    for _ in range(4):  # both gunicorn workers, whichever answers
        gone = httpx2.post(
            f"{base}/mcp",
            json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"},
            headers={"Authorization": f"Bearer {fresh['access_token']}", "Accept": "application/json"},
            timeout=30,
        )
        assert gone.status_code == 401 and "resource_metadata" in gone.headers["WWW-Authenticate"]


def test_no_token_or_code_appears_in_any_log_line(world: dict[str, Any]) -> None:
    """Runs after the flows (module order): every secret they handled, searched in every log."""
    logs = world["stack"].all_logs()
    assert "/oauth/token/" in logs and "/mcp" in logs  # the logs did record the run
    leaked = [secret for secret in world["secrets"] if secret in logs]
    assert not leaked
