"""stdio for ``manage.py mcp``: a line that is not a JSON-RPC message is answered, not dropped.

The SDK's stdio transport passes such a line on as an exception, and its dispatcher drops it
with a debug log: the client waits for an answer that never comes. JSON-RPC 2.0 says a
message that cannot be parsed gets a Parse error (-32700) with a null id. The SDK has no
public hook for this, so this one seam sits between its public ``stdio_server`` and the
server loop.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
from mcp.shared.message import SessionMessage
from mcp.types import ErrorData, JSONRPCError

PARSE_ERROR = -32700
PARSE_ERROR_MESSAGE = "Parse error: each line must be one JSON-RPC 2.0 message (a JSON object)."


@asynccontextmanager
async def answering_parse_errors(read_stream: Any, write_stream: Any) -> AsyncIterator[Any]:
    """The messages of ``read_stream``, each unparseable line answered on ``write_stream``."""
    send, messages = anyio.create_memory_object_stream[SessionMessage](0)

    async def forward() -> None:
        async with send:
            async for item in read_stream:
                if isinstance(item, Exception):
                    error = JSONRPCError(
                        jsonrpc="2.0", id=None, error=ErrorData(code=PARSE_ERROR, message=PARSE_ERROR_MESSAGE)
                    )
                    await write_stream.send(SessionMessage(error))
                    continue
                await send.send(item)

    async with anyio.create_task_group() as group:
        group.start_soon(forward)
        try:
            yield messages
        finally:
            group.cancel_scope.cancel()
