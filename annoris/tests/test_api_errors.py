"""One JSON error shape under /api/ (issue #7): 404, 405, 406, 413, 415, 400 for NUL, 500."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import override_settings
from rest_framework.test import APIClient

from annoris.api import tokens

pytestmark = pytest.mark.django_db

SHAPE = {"detail", "code", "errors"}


@pytest.fixture
def api() -> APIClient:
    _, secret = tokens.issue(name="writer", scope="write")
    client = APIClient(raise_request_exception=False)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client


def _error(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == SHAPE and body["code"] == code and body["detail"]
    return body


def test_unknown_urls_under_api_are_json_404s_with_or_without_credentials(api: APIClient) -> None:
    _error(api.get("/api/nothing/here/"), 404, "not_found")
    _error(APIClient().get("/api/nothing/here/"), 404, "not_found")
    assert "end with a slash" in _error(api.get("/api/projects"), 404, "not_found")["detail"]


def test_a_wrong_method_is_405_with_allow(api: APIClient) -> None:
    response = api.delete("/api/sessions/")
    _error(response, 405, "method_not_allowed")
    assert "GET" in response["Allow"]


def test_an_unsupported_body_type_is_415_and_malformed_json_is_400(api: APIClient) -> None:
    _error(api.post("/api/projects/", "name: x", content_type="text/yaml"), 415, "unsupported_media_type")
    _error(api.post("/api/projects/", "{nope", content_type="application/json"), 400, "parse_error")


def test_validation_errors_name_each_field(api: APIClient) -> None:
    body = _error(api.post("/api/projects/", {"priority": "high"}, format="json"), 400, "invalid")
    assert set(body["errors"]) == {"name", "priority"}


def test_an_unavailable_representation_is_406_and_an_unknown_format_404(api: APIClient) -> None:
    _error(api.get("/api/projects/", HTTP_ACCEPT="text/markdown"), 406, "not_acceptable")
    _error(api.get("/api/projects/?format=xml"), 404, "not_found")  # DRF's answer to an unknown ?format=


def test_a_body_over_the_limit_is_413_before_it_is_read(api: APIClient, settings: Any) -> None:
    settings.ANNORIS_API_MAX_BODY_BYTES = 1000
    body = _error(api.post("/api/projects/", {"name": "x" * 2000}, format="json"), 413, "too_large")
    assert "1000-byte limit" in body["detail"]


def test_a_nul_byte_or_invalid_text_in_a_query_parameter_is_400(api: APIClient) -> None:
    for query in ("q=%00", "ordering=title%00", "%00=1"):
        _error(api.get(f"/api/sessions/?{query}"), 400, "invalid")
    _error(api.get("/api/projects/?page_size=%00"), 400, "invalid")


@override_settings(ROOT_URLCONF="annoris.tests.crash_urls")
def test_a_crash_still_answers_json_500_never_html(api: APIClient) -> None:
    _error(api.get("/api/crash/drf/"), 500, "server_error")
    _error(api.get("/api/crash/django/"), 500, "server_error")
