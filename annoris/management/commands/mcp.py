"""manage.py mcp: the MCP server over stdio, for an assistant on this machine."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = (
        "Serve Annoris to an MCP client (Claude Code, Claude Desktop, ...) over stdio: the client "
        "starts this command and speaks JSON-RPC on its stdin/stdout. The caller is the local "
        "operator, so every tool is allowed, writes included, without a token. Logs go to stderr. "
        "For remote assistants use the HTTP endpoint /mcp with an API token instead."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        from annoris.mcp import tools
        from annoris.mcp.server import get_server

        tools.trust_local_operator()
        get_server().run("stdio")
