"""The search's wiring above sessions_app: the MCP tool's filters and notes, and /health's index lag."""

from __future__ import annotations

import pytest
from django.test import Client as DjangoClient

from annoris.api import tokens
from annoris.mcp.search_tool import _search_sessions as _search_tool
from annoris.sources.local import LocalSource
from sessions_app.search import index_pending, mark_stale
from sessions_app.search.freshness import forget
from sync_app.engine import run_sync


@pytest.fixture
def synced(db: None, local_source: LocalSource) -> None:
    run_sync(source=local_source)
    index_pending()
    forget()


def _search_sessions(*args: object) -> dict:
    """The tool's structured answer (what an MCP client reads as structuredContent)."""
    return _search_tool(*args).structured_content


def test_the_mcp_tool_pages_filters_and_says_what_it_ignored(synced: None, settings) -> None:  # noqa: ANN001
    settings.ANNORIS_SEARCH_SEMANTIC = False
    everything = _search_sessions("redis", None, 10, 0, None, None)
    assert everything["total"] >= 2 and everything["incomplete"] is False and everything["ignored"] == []
    second = _search_sessions("redis", None, 1, 1, None, None)
    assert second["results"][0]["id"] == everything["results"][1]["id"]
    assert _search_sessions("redis", None, 10, 0, "2030-01-01", None)["total"] == 0
    assert _search_sessions("redis", None, 10, 0, None, "blocked")["total"] <= everything["total"]
    assert _search_sessions("redis ****", None, 10, 0, None, None)["ignored"] == [
        "****: no letter or digit to search"
    ]
    from mcp.server.mcpserver.exceptions import ToolError

    with pytest.raises(ToolError, match="ISO 8601"):
        _search_sessions("redis", None, 10, 0, "last tuesday", None)


def test_health_shows_the_index_lag(synced: None) -> None:
    from sessions_app.models import Session

    token = tokens.issue(name="ops", scope=tokens.READ)[1]  # the counts need a token or staff

    class Client:  # noqa: D401 - /health as an operator with a token reads it
        def get(self, path: str) -> object:
            return DjangoClient().get(path, HTTP_AUTHORIZATION=f"Bearer {token}")

    assert Client().get("/health").json()["search_index"] == {"status": "ok", "waiting": 0}
    mark_stale(Session.objects.values_list("id", flat=True)[:3])
    forget()
    assert Client().get("/health").json()["search_index"] == {"status": "behind", "waiting": 3}
    index_pending()
    forget()
    assert Client().get("/health").json()["search_index"]["waiting"] == 0


def test_the_mcp_tool_says_one_session_in_the_singular(synced: None, settings) -> None:  # noqa: ANN001
    settings.ANNORIS_SEARCH_SEMANTIC = False
    one = _search_tool("Shopify", None, 10, 0, None, None)
    assert one.structured_content["total"] == 1
    assert one.content[0].text.startswith("1 session matches; best first:")
    many = _search_tool("redis", None, 10, 0, None, None)
    assert many.content[0].text.startswith(f"{many.structured_content['total']} sessions match; best first:")
