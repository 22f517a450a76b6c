"""Hostile input to the API answers in the JSON error shape, never a 500 or a CSRF page
(issue #20, findings 6 and 13)."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from annoris.api import tokens

pytestmark = pytest.mark.django_db

SHAPE = {"detail", "code", "errors"}


@pytest.fixture
def api() -> APIClient:
    """A write token, and CSRF checked as a browser-facing deployment checks it."""
    _, secret = tokens.issue(name="writer", scope="write")
    client = APIClient(enforce_csrf_checks=True, raise_request_exception=False)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client


def _error(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.content[:300]
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == SHAPE and body["code"] == code and body["detail"]
    return body


@pytest.mark.parametrize("url", ["/api/sessions/", "/api/projects/"])
def test_json_nested_100000_deep_is_a_400_not_a_500(api: APIClient, url: str) -> None:
    deep = "[" * 100_000 + "]" * 100_000
    body = _error(api.post(url, deep, content_type="application/json"), 400, "parse_error")
    assert "levels deep" in body["detail"]


def test_json_nested_within_the_limit_still_parses(api: APIClient) -> None:
    nested = '{"name": "Deep", "status": "active", "x": ' + "[" * 40 + "]" * 40 + "}"
    response = api.post("/api/projects/", nested, content_type="application/json")
    assert response.status_code == 201, response.content


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("post", "/api/sessions"),
        ("post", "/api/nope/"),
        ("put", "/api/sessions/not-a-uuid/"),
        ("patch", "/api/projects/not-a-uuid/"),
        ("delete", "/api/nope"),
    ],
)
def test_an_unknown_url_with_an_unsafe_method_is_a_json_404_not_a_csrf_403(
    api: APIClient, method: str, url: str
) -> None:
    response = getattr(api, method)(url, {"content": "# x\n"}, format="json")
    body = _error(response, 404, "not_found")
    assert "CSRF" not in body["detail"]
