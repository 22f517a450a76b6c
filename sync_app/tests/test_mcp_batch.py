"""MCP batches: the endpoint does what its docstring says (issue #20, smaller findings): a JSON
array is a 400 JSON-RPC "invalid request" that quotes none of the input."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from annoris.api import tokens

pytestmark = pytest.mark.django_db


def test_a_batch_is_refused_as_an_invalid_request_without_echoing_it() -> None:
    token = tokens.issue(name="reader")[1]
    batch = [
        {"jsonrpc": "2.0", "id": 1, "method": "tools/list"},
        {
            "jsonrpc": "2.0",
            "id": 2,
            "method": "tools/call",
            "params": {"name": "x", "arguments": {"k": "s3cr3t"}},
        },
    ]
    response = Client().post(
        "/mcp", data=json.dumps(batch), content_type="application/json",
        HTTP_ACCEPT="application/json, text/event-stream", HTTP_AUTHORIZATION=f"Bearer {token}",
    )  # fmt: skip
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == -32600 and "batch" in error["message"]
    assert "s3cr" not in response.content.decode()
