"""The MCP server, driven by the official MCP Python client over both transports.

HTTP: a real gunicorn with sync workers (as the Procfile runs it) on a free port, and once
runserver (``make run``), both on this test database. stdio: ``manage.py mcp`` as a
subprocess. The data (the sample sessions, synced; a user with a token) is written once per
module and committed, so the subprocesses see it; the database is flushed afterwards.
"""

from __future__ import annotations

import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote

import anyio
import httpx2
import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection
from mcp import Client, StdioServerParameters
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError
from mcp.types import INVALID_PARAMS, CallToolResult

from annoris.api import tokens
from annoris.sources.local import LocalSource
from annoris.testing.github_emulator import GitHubEmulator
from sessions_app.models import Session
from sync_app.engine import run_sync

BASE_DIR = Path(settings.BASE_DIR)
SAMPLES = BASE_DIR / "samples" / "sessions"
WRITES = {"save_session", "update_session", "edit_session", "delete_session"}
TOOLS = {
    "get_context", "recent_activity", "search_sessions", "read_session", "list_projects", "next_steps",
    "sync_status", *WRITES,
}  # fmt: skip
T = TypeVar("T")
# Only to have the test database set up: the data is the module's (``world``), committed.
pytestmark = pytest.mark.django_db


# --- Fixtures: data, servers, clients -------------------------------------------------------


@pytest.fixture(scope="module")
def world(
    django_db_setup: None, django_db_blocker: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict]:
    """Synced samples and a user with a token, committed; the env a subprocess needs to see them."""
    folder = tmp_path_factory.mktemp("mcp") / "sessions"
    shutil.copytree(SAMPLES, folder)
    with django_db_blocker.unblock():
        log_id = run_sync(source=LocalSource(folder, repository="local")).log_id
        token = tokens.issue(name="assistant", scope=tokens.READ)[1]
        write_token = tokens.issue(name="assistant-writer", scope=tokens.WRITE)[1]
        sessions = list(Session.objects.live().select_related("project"))
        env = {**os.environ, "SESSIONS_SOURCE": str(folder), "DATABASE_URL": _database_url(folder.parent)}
        env.pop("GITHUB_REPO", None)
        yield {
            "env": env,
            "token": token,
            "write_token": write_token,
            "sessions": sessions,
            "log_id": str(log_id),
            "folder": folder,
        }
        call_command("flush", interactive=False, verbosity=0)


def _database_url(tmp: Path) -> str:
    """This test database, as a DATABASE_URL for a subprocess (SQLite: a file copy of it)."""
    params = connection.settings_dict
    if connection.vendor == "postgresql":
        auth = quote(params["USER"] or "", safe="")
        if params["PASSWORD"]:
            auth += ":" + quote(params["PASSWORD"], safe="")
        return f"postgres://{auth}@{params['HOST'] or '127.0.0.1'}:{params['PORT'] or 5432}/{params['NAME']}"
    path = tmp / "db.sqlite3"
    connection.ensure_connection()
    with sqlite3.connect(path) as target:
        connection.connection.backup(target)
    return f"sqlite:///{path}"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def _serving(command: list[str], env: dict[str, str], port: int) -> Iterator[str]:
    """Run ``command`` until it accepts connections on ``port``; its /mcp URL."""
    process = subprocess.Popen(
        command, cwd=BASE_DIR, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, process.stderr.read().decode()[-2000:]  # type: ignore[union-attr]
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "the server did not start"
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}/mcp"
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture(scope="module")
def gunicorn_url(world: dict) -> Iterator[str]:
    port = _free_port()
    command = [sys.executable, "-m", "gunicorn", "annoris.wsgi", "-w", "2", "-b", f"127.0.0.1:{port}"]
    with _serving(command, world["env"], port) as url:
        yield url


def _run(fn: Callable[[], Awaitable[T]]) -> T:
    return anyio.run(fn)


def _http(url: str, token: str | None, scheme: str = "Bearer", mode: str = "legacy") -> Client:
    """A client that initializes (legacy handshake) unless ``mode`` says otherwise."""
    headers = {"Authorization": f"{scheme} {token}"} if token else {}
    http = httpx2.AsyncClient(headers=headers, timeout=30.0)  # a cold worker on a busy CI box is slow
    return Client(streamable_http_client(url, http_client=http), mode=mode)


def _stdio(world: dict) -> Client:
    params = StdioServerParameters(
        command=sys.executable, args=["manage.py", "mcp"], env=world["env"], cwd=str(BASE_DIR)
    )
    return Client(params, mode="legacy")


def _call(client: Client, tool: str, arguments: dict[str, Any]) -> CallToolResult:
    async def go() -> CallToolResult:
        async with client:
            return await client.call_tool(tool, arguments)

    return _run(go)


def _leaves(error: BaseException) -> list[BaseException]:
    if isinstance(error, BaseExceptionGroup):
        return [leaf for inner in error.exceptions for leaf in _leaves(inner)]
    return [error]


def _text(result: CallToolResult) -> str:
    return result.content[0].text  # type: ignore[union-attr]


# --- HTTP (gunicorn, sync workers) -------------------------------------------------------------


def test_it_initializes_and_lists_the_tools_with_their_hints(gunicorn_url: str, world: dict) -> None:
    async def go() -> tuple[Any, Any]:
        async with _http(gunicorn_url, world["token"]) as client:
            return client.server_info, (await client.list_tools()).tools

    info, tools = _run(go)
    assert info.name == "annoris"
    assert {tool.name for tool in tools} == TOOLS
    by_name = {tool.name: tool for tool in tools}
    assert all(tool.description and tool.input_schema["type"] == "object" for tool in tools)
    for name in TOOLS - WRITES:
        assert by_name[name].annotations.read_only_hint is True, name
    assert by_name["save_session"].annotations.read_only_hint is False
    assert by_name["save_session"].annotations.destructive_hint is False
    assert by_name["update_session"].annotations.destructive_hint is True
    assert by_name["search_sessions"].input_schema["properties"]["limit"]["maximum"] == 50


def test_it_reads_a_session_by_id_and_by_path_and_says_which_layer(gunicorn_url: str, world: dict) -> None:
    session = world["sessions"][0]
    expected = (world["folder"] / session.github_path).read_text(encoding="utf-8")

    async def go() -> tuple[CallToolResult, CallToolResult]:
        async with _http(gunicorn_url, world["token"]) as client:
            by_id = await client.call_tool("read_session", {"id": str(session.id)})
            by_path = await client.call_tool("read_session", {"path": session.github_path})
            return by_id, by_path

    for result in _run(go):
        assert not result.is_error, _text(result)
        found = result.structured_content
        assert (found["id"], found["title"], found["path"]) == (
            str(session.id),
            session.title,
            session.github_path,
        )
        assert found["markdown"] == expected
        assert found["served_by"] in {"cache", "database"} and found["elapsed_ms"] >= 0


def test_it_lists_the_projects_with_their_session_counts(gunicorn_url: str, world: dict) -> None:
    result = _call(_http(gunicorn_url, world["token"]), "list_projects", {})
    assert not result.is_error, _text(result)
    counts = {p["name"]: p["session_count"] for p in result.structured_content["projects"]}
    expected: dict[str, int] = {}
    for session in world["sessions"]:
        if session.project:
            expected[session.project.name] = expected.get(session.project.name, 0) + 1
    assert counts == expected


def test_it_reports_the_last_sync(gunicorn_url: str, world: dict) -> None:
    result = _call(_http(gunicorn_url, world["token"]), "sync_status", {})
    assert not result.is_error, _text(result)
    status = result.structured_content
    assert status["last_sync"]["id"] == status["last_successful_sync"]["id"] == world["log_id"]
    assert status["last_sync"]["files_synced"] == len(world["sessions"])


def test_it_offers_the_sessions_as_resources(gunicorn_url: str, world: dict) -> None:
    session = world["sessions"][0]

    async def go() -> tuple[Any, Any, Any, Exception]:
        async with _http(gunicorn_url, world["token"]) as client:
            listed = (await client.list_resources()).resources
            templates = (await client.list_resource_templates()).resource_templates
            read = await client.read_resource(f"annoris://sessions/{session.id}")
            with pytest.raises(MCPError) as missing:
                await client.read_resource("annoris://sessions/00000000-0000-0000-0000-000000000000")
            return listed, templates, read, missing.value

    listed, templates, read, missing = _run(go)
    assert missing.error.code == INVALID_PARAMS and "No session has id" in missing.error.message
    assert {str(r.uri) for r in listed} == {f"annoris://sessions/{s.id}" for s in world["sessions"]}
    assert [t.uri_template for t in templates] == ["annoris://sessions/{id}"]
    assert read.contents[0].mime_type == "text/markdown"
    assert read.contents[0].text == (world["folder"] / session.github_path).read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"id": "00000000-0000-0000-0000-000000000000"}, "No session has id"),
        ({"id": "not-a-uuid"}, "No session has id"),
        ({}, "Give exactly one of id or path."),
        ({"path": "../../etc/passwd.md"}, "path must be a relative path to a .md file"),
        ({"path": "a\x00b.md"}, "NUL"),
        ({"path": "x" * 501}, "path must be at most 500 characters; shorten it."),
    ],
)
def test_a_bad_call_is_a_tool_error_with_a_message(
    gunicorn_url: str, world: dict, arguments: dict, message: str
) -> None:
    result = _call(_http(gunicorn_url, world["token"]), "read_session", arguments)
    assert result.is_error and message in _text(result)
    assert (
        "pydantic" not in _text(result)
        and len(result.content) == 1
        and "Error executing tool" not in _text(result)
    )


def test_bounds_are_enforced(gunicorn_url: str, world: dict) -> None:
    result = _call(_http(gunicorn_url, world["token"]), "search_sessions", {"query": "x", "limit": 10_000})
    assert result.is_error and _text(result) == "limit must be at most 50."


def test_it_refuses_a_request_without_a_valid_token(gunicorn_url: str, world: dict) -> None:
    message = {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}
    headers = {"Accept": "application/json, text/event-stream"}
    for auth in ({}, {"Authorization": "Bearer not-a-token"}):
        response = httpx2.post(gunicorn_url, json=message, headers={**headers, **auth}, timeout=30)
        assert response.status_code == 401
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
        body = response.json()
        assert body["jsonrpc"] == "2.0" and body["error"]["message"] and "result" not in body

    async def go() -> None:
        async with _http(gunicorn_url, None) as client:
            await client.list_tools()

    with pytest.raises(ExceptionGroup) as refused:  # the client's task group carries the MCPError
        _run(go)
    leaves = _leaves(refused.value)
    assert any(isinstance(e, MCPError) and "Authentication required" in e.error.message for e in leaves)


def test_it_accepts_the_token_under_either_keyword(gunicorn_url: str, world: dict) -> None:
    for scheme in ("Bearer", "Token"):
        result = _call(_http(gunicorn_url, world["token"], scheme), "list_projects", {})
        assert not result.is_error, scheme


@pytest.mark.parametrize("mode", ["legacy", "2026-07-28"])  # handshake era, and the SDK's newest
def test_a_read_token_cannot_write(gunicorn_url: str, world: dict, mode: str) -> None:
    session = world["sessions"][0]
    calls = {
        "save_session": {"markdown": "# New\n", "project": "Annoris"},
        "update_session": {
            "id": str(session.id),
            "markdown": "# Changed\n",
            "expected_sha": session.github_sha,
        },
    }
    before = sorted(p.read_bytes() for p in world["folder"].rglob("*.md"))
    for tool, arguments in calls.items():
        result = _call(_http(gunicorn_url, world["token"], mode=mode), tool, arguments)
        assert result.is_error and "needs a token with the write scope" in _text(result), tool
    assert sorted(p.read_bytes() for p in world["folder"].rglob("*.md")) == before


def test_it_gives_the_context_within_its_budget(gunicorn_url: str, world: dict) -> None:
    newest = max((s for s in world["sessions"] if s.project and s.project.name.lower() == "pricewise"),
                 key=lambda s: s.created_at)  # fmt: skip
    for budget in (200, 400, 5000):
        arguments = {"project": "Pricewise", "budget_tokens": budget}
        result = _call(_http(gunicorn_url, world["token"]), "get_context", arguments)
        assert not result.is_error, _text(result)
        context = result.structured_content
        assert context["tokens"] <= budget and context["markdown"]
    assert newest.title in context["markdown"]  # 5,000 tokens hold the newest session whole
    missing = _call(_http(gunicorn_url, world["token"]), "get_context", {"project": "no such project"})
    assert missing.is_error and "no such project" in _text(missing).lower()


def test_it_searches_body_words_in_any_case(gunicorn_url: str, world: dict) -> None:
    seed = next(s for s in world["sessions"] if s.github_path.endswith("2025-10-20-redis-strategy.md"))
    result = _call(_http(gunicorn_url, world["token"]), "search_sessions", {"query": "СРАЗУ", "limit": 5})
    assert not result.is_error, _text(result)
    found = result.structured_content
    assert str(seed.id) in [hit["id"] for hit in found["results"]]
    assert (
        found["total"] == len(found["results"]) == sum("сразу" in s.text.lower() for s in world["sessions"])
    )
    assert all("сразу" in hit["snippet"].lower() for hit in found["results"])


def test_it_lists_a_projects_open_next_steps(gunicorn_url: str, world: dict) -> None:
    result = _call(_http(gunicorn_url, world["token"]), "next_steps", {"project": "pricewise"})
    assert not result.is_error, _text(result)
    texts = [step["text"] for step in result.structured_content["next_steps"]]
    assert "A/B test subject lines for the day 3 email" in texts[0]  # newest first


def test_only_bounded_posts_are_served(gunicorn_url: str, world: dict) -> None:
    auth = {"Authorization": f"Bearer {world['token']}"}
    assert httpx2.get(gunicorn_url, headers=auth, timeout=30).status_code == 405
    big = b'{"jsonrpc": "2.0", "id": 1, "method": "ping", "params": {"x": "' + b"a" * 2_000_000 + b'"}}'
    response = httpx2.post(
        gunicorn_url, content=big, headers={**auth, "Content-Type": "application/json"}, timeout=30
    )
    assert response.status_code == 413 and response.json()["error"]["message"]


@pytest.mark.parametrize(
    "command",
    [
        ["manage.py", "runserver", "127.0.0.1:{port}", "--noreload", "--skip-checks"],  # make run
        ["-m", "uvicorn", "annoris.asgi:application", "--port", "{port}", "--lifespan", "off"],  # ASGI
    ],
    ids=["runserver", "asgi"],
)
def test_it_serves_under_runserver_and_asgi_too(world: dict, command: list[str]) -> None:
    port = _free_port()
    with _serving([sys.executable, *(part.format(port=port) for part in command)], world["env"], port) as url:
        session = world["sessions"][0]
        result = _call(_http(url, world["token"]), "read_session", {"id": str(session.id)})
    assert not result.is_error and result.structured_content["title"] == session.title


# --- stdio (manage.py mcp) ---------------------------------------------------------------------


def test_stdio_lists_the_tools_reads_a_session_and_lets_the_operator_write(world: dict) -> None:
    session = world["sessions"][0]

    async def go() -> tuple[set[str], CallToolResult, CallToolResult, CallToolResult]:
        async with _stdio(world) as client:
            names = {tool.name for tool in (await client.list_tools()).tools}
            read = await client.call_tool("read_session", {"id": str(session.id)})
            status = await client.call_tool("sync_status", {})
            save = await client.call_tool("save_session", {"markdown": "# New\n"})
            return names, read, status, save

    names, read, status, save = _run(go)
    assert names == TOOLS
    assert not read.is_error and read.structured_content["title"] == session.title
    assert not status.is_error and status.structured_content["last_sync"]["id"] == world["log_id"]
    # The operator may write: the document lands in the source (here the local folder).
    assert not save.is_error, _text(save)
    saved = save.structured_content
    assert (world["folder"] / saved["path"]).read_bytes() == b"# New\n"  # no fields: byte for byte
    (world["folder"] / saved["path"]).unlink()  # the other tests see the samples only


def test_the_command_has_help_text() -> None:
    out = subprocess.run(
        [sys.executable, "manage.py", "help", "mcp"], cwd=BASE_DIR, capture_output=True, text=True, check=True
    ).stdout
    assert "stdio" in out and "/mcp" in out


def test_a_stream_that_would_never_end_is_refused_at_once(gunicorn_url: str, world: dict) -> None:
    """``subscriptions/listen`` answers a stream kept open for good: it would pin a sync worker."""
    listen = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "subscriptions/listen",
        "params": {
            "_meta": {
                "io.modelcontextprotocol/protocolVersion": "2026-07-28",
                "io.modelcontextprotocol/clientCapabilities": {},
            },
            "notifications": {"toolsListChanged": True},
        },
    }
    headers = {
        "Authorization": f"Bearer {world['token']}",
        "Accept": "application/json, text/event-stream",
        "MCP-Protocol-Version": "2026-07-28",
        "Mcp-Method": "subscriptions/listen",
    }
    response = httpx2.post(gunicorn_url, json=listen, headers=headers, timeout=15)
    assert response.json()["error"]["message"] == "Method not found"


def test_a_write_token_saves_a_session_that_lands_in_the_github_emulator(world: dict, tmp_path: Path) -> None:
    emulator = GitHubEmulator(tmp_path / "repo")
    emulator.commit_files({"sessions/annoris/old.md": b"# Old\n"}, message="Import")
    with emulator:
        env = {
            **world["env"],
            "SESSIONS_SOURCE": "github",
            "GITHUB_API_URL": emulator.base_url,
            "GITHUB_REPO": emulator.full_name,
            "GITHUB_TOKEN": emulator.token,
            "GITHUB_BRANCH": "main",
        }
        port = _free_port()
        command = [sys.executable, "-m", "gunicorn", "annoris.wsgi", "-w", "1", "-b", f"127.0.0.1:{port}"]
        with _serving(command, env, port) as url:
            markdown = "# MCP design\n\nDecided: the assistant saves through the API's write path.\n"
            arguments = {"markdown": markdown, "project": "Annoris", "status": "✅ done"}
            saved = _call(_http(url, world["write_token"]), "save_session", arguments)
            refused = _call(_http(url, world["token"]), "save_session", arguments)
            leak = {"markdown": "# Oops\n\ntoken: ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8" + "\n"}
            secret = _call(_http(url, world["write_token"]), "save_session", leak)
        assert not saved.is_error, _text(saved)
        result = saved.structured_content
        assert result["commit"] and result["queued"] is None
        landed = subprocess.run(  # noqa: S603 - git on the emulator's own repository
            ["git", f"--git-dir={emulator.repo.path}", "show", f"main:{result['path']}"],
            capture_output=True,
            check=True,
        ).stdout.decode()
        assert "Decided: the assistant saves through the API's write path." in landed
        assert "project: Annoris" in landed  # the given fields went into the front matter
        assert refused.is_error and "write scope" in _text(refused)
        assert secret.is_error and "GitHub" in _text(secret) and "a1B2c3D4" not in _text(secret)
        commits = subprocess.run(  # noqa: S603
            ["git", f"--git-dir={emulator.repo.path}", "rev-list", "--count", "main"],
            capture_output=True,
            check=True,
        )
        assert int(commits.stdout) == 2  # the import and the one save; the refused ones wrote nothing
