"""One timestamp format everywhere a client reads one: the sessions API, search, next steps,
sync runs and MCP all write UTC as ISO 8601 ending in ``Z`` (issue #19)."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from django.test import Client
from rest_framework.test import APIClient

from annoris.api import tokens
from sessions_app.models import Session
from sync_app.tests.conftest import q_sync  # noqa: F401 - the task queue runs inline

ISO_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,6})?Z$")


@pytest.fixture
def secret(transactional_db: None, settings: Any, sample_dir: Any, q_sync: None) -> str:  # noqa: F811
    """A write token over the synced samples, committed: the MCP tools read in a thread of their
    own, on a connection of their own, which on PostgreSQL sees only committed rows."""
    from sync_app.engine import run_sync

    settings.SESSIONS_SOURCE = str(sample_dir)
    run_sync()
    return tokens.issue(name="reader", scope="write")[1]


def stamps(value: Any, names: tuple[str, ...]) -> list[str]:
    """Every string under a key in ``names``, anywhere in ``value``."""
    found: list[str] = []
    if isinstance(value, dict):
        for key, inner in value.items():
            if key in names and isinstance(inner, str):
                found.append(inner)
            else:
                found += stamps(inner, names)
    elif isinstance(value, list):
        for inner in value:
            found += stamps(inner, names)
    return found


def mcp_call(secret: str, tool: str, arguments: dict[str, Any]) -> Any:
    body = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "tools/call",
        "params": {"name": tool, "arguments": arguments},
    }
    response = Client().post(
        "/mcp", json.dumps(body), content_type="application/json",
        HTTP_ACCEPT="application/json, text/event-stream", HTTP_AUTHORIZATION=f"Bearer {secret}",
    )  # fmt: skip
    assert response.status_code == 200, response.content
    result = response.json()["result"]
    assert not result.get("isError"), result
    return result["structuredContent"]


def test_sessions_search_next_steps_sync_and_mcp_write_one_format(secret: str) -> None:
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    newest = Session.objects.live().order_by("-created_at").first()
    names = ("created_at", "last_synced", "session_created_at", "synced_at", "finished_at",
             "started_at", "last_session_at", "checked_at")  # fmt: skip
    sources = {
        "sessions": api.get("/api/sessions/").json(),
        "session": api.get(f"/api/sessions/{newest.id}/").json(),
        "search": api.get("/api/search/", {"q": "redis"}).json(),
        "next steps": api.get("/api/projects/annoris/next-steps/").json(),
        "sync": api.post("/api/sync/").json() and api.get("/api/sync/").json(),
        "mcp search": mcp_call(secret, "search_sessions", {"query": "redis"}),
        "mcp next steps": mcp_call(secret, "next_steps", {"project": "Annoris"}),
        "mcp sync": mcp_call(secret, "sync_status", {}),
        "mcp projects": mcp_call(secret, "list_projects", {}),
    }
    for where, body in sources.items():
        found = stamps(body, names)
        assert found, f"{where}: no timestamp in {body}"
        bad = [value for value in found if not ISO_Z.match(value)]
        assert not bad, f"{where}: {bad}"
    # The same moment reads the same wherever it comes from.
    listed = {row["id"]: row["created_at"] for row in sources["sessions"]["results"]}
    hits = sources["search"]["results"]
    assert hits and all(listed[hit["id"]] == hit["created_at"] for hit in hits if hit["id"] in listed)
