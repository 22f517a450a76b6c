"""The OpenAPI schema describes the session API (drf-spectacular)."""

from __future__ import annotations

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def test_it_serves_an_openapi_schema_naming_the_session_endpoints(admin_client: Client) -> None:
    response = admin_client.get("/api/schema/?format=json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    assert "/api/sessions/" in paths and "/api/sessions/{id}/" in paths
    detail = paths["/api/sessions/{id}/"]["get"]["responses"]["200"]["content"]["application/json"]
    assert detail["schema"]["$ref"].endswith("/SessionDetail")
