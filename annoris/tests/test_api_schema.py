"""OpenAPI 3.1 at /api/schema/ and Swagger UI at /api/docs/ with local assets (issue #7)."""

from __future__ import annotations

import re

import pytest
from django.contrib.staticfiles import finders
from django.test import Client

pytestmark = pytest.mark.django_db

OPERATIONS = {
    ("/api/sessions/", "get"), ("/api/sessions/{id}/", "get"),
    ("/api/projects/", "get"), ("/api/projects/", "post"), ("/api/projects/{id}/", "get"),
    ("/api/projects/{id}/", "put"), ("/api/projects/{id}/", "patch"), ("/api/projects/{id}/", "delete"),
    ("/api/projects/{project_id}/sessions/", "get"),
    ("/api/sync/", "get"), ("/api/sync/", "post"), ("/api/sync/{id}/", "get"), ("/api/schema/", "get"),
}  # fmt: skip


def test_it_serves_openapi_31_as_json_a_browser_shows(admin_client: Client) -> None:
    response = admin_client.get("/api/schema/")
    assert response.status_code == 200 and response["Content-Type"].startswith("application/json")
    schema = response.json()
    assert schema["openapi"].startswith("3.1")
    operations = {(path, method) for path, item in schema["paths"].items() for method in item}
    assert OPERATIONS <= operations
    yaml = admin_client.get("/api/schema/?format=yaml")
    assert yaml["Content-Type"].startswith("text/plain") and yaml.content.startswith(b"openapi: 3.1")


def test_every_operation_documents_its_errors_with_the_error_component(admin_client: Client) -> None:
    schema = admin_client.get("/api/schema/").json()
    assert set(schema["components"]["schemas"]["Error"]["required"]) == {"detail", "code", "errors"}
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            responses = operation["responses"]
            for status in ("401", "403", "429", "503"):
                error = responses[status]["content"]["application/json"]["schema"]
                assert error == {"$ref": "#/components/schemas/Error"}, (path, method, status)
            assert "Retry-After" in responses["429"]["headers"]
            assert operation.get("summary") or operation.get("description"), (path, method)
    detail = schema["paths"]["/api/sessions/{id}/"]["get"]
    assert {"ETag", "X-Annoris-Source", "Server-Timing"} <= set(detail["responses"]["200"]["headers"])
    assert "304" in detail["responses"] and "text/markdown" in detail["responses"]["200"]["content"]


def test_the_schema_does_not_describe_itself_with_every_language(admin_client: Client) -> None:
    schema_op = admin_client.get("/api/schema/").json()["paths"]["/api/schema/"]["get"]
    assert [p["name"] for p in schema_op.get("parameters", [])] == ["format"]


def test_component_names_read_well(admin_client: Client) -> None:
    names = set(admin_client.get("/api/schema/").json()["components"]["schemas"])
    assert {"Error", "SessionSummary", "SessionDetail", "Project", "SyncLog", "SessionStateEnum"} <= names
    assert "PaginatedSessionSummaryList" in names and not any(name.endswith("ListList") for name in names)
    assert not [n for n in names if re.search(r"[0-9a-f]{3}Enum$", n)]  # no hash-suffixed enum names


def test_the_docs_page_loads_swagger_ui_from_this_app_only(admin_client: Client) -> None:
    page = admin_client.get("/api/docs/")
    assert page.status_code == 200
    html = page.content.decode()
    sources = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert sources and not [s for s in sources if s.startswith(("http:", "https:", "//"))]
    assert "/api/schema/" in html
    for asset in ("swagger-ui-bundle.js", "swagger-ui.css"):
        assert finders.find(f"drf_spectacular_sidecar/swagger-ui-dist/{asset}")


def test_the_docs_and_schema_need_auth() -> None:
    assert Client().get("/api/schema/").status_code == 401
    assert Client().get("/api/docs/").status_code == 401
